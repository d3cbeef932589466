// Stage 5, emit the prompt: what the model reads instead of the JSON schemas. Python
// signatures carry names, types, required-ness, enums and defaults exactly; descriptions
// are kept whole (`full`), cut to their first sentence (`compact`), or the prompt lists
// only names and summaries and the model reads the rest in the sandbox (`index`).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { packageRoot } from '../runtime/package-root.js';
import type { PythonSdk } from './emit-python.js';
import { withConstraints } from './python/constraints.js';
import { type Definition, allowsNone, printType } from './python/model.js';
import { isPythonIdentifier } from './python/names.js';
import { firstLine } from './python/schema-to-python.js';
import type { Param, ToolSignature } from './python/schema-to-python.js';
import type { ToolIR } from './normalize.js';

import type { PromptStyle } from './prompt-styles.js';
export { PROMPT_STYLES, type PromptStyle } from './prompt-styles.js';

/**
 * Words whose final period is not a sentence's end. Any word with an inner period ("e.g.",
 * "a.k.a.", "U.S.", "v1.2.", "example.com.") and single letters ("J.") count too.
 */
const ABBREVIATIONS = new Set(
  'etc vs cf approx incl excl esp resp viz al ca no nos fig figs eq eqs vol vols p pp ch sec min max avg est dept mr mrs ms dr st jr sr inc ltd co corp'.split(' '),
);

/** Whether the word (with its final punctuation) ends a sentence. */
function endsSentence(word: string): boolean {
  if (!/[.!?]$/.test(word) || word.includes('://')) return false;
  if (!word.endsWith('.')) return true;
  // Opening and closing quotes and brackets around the word: `(see below).`
  const bare = word.replace(/^[("'\[`]+/, '').replace(/[)"'\]`]*\.$/, '');
  if (bare.includes('.') || /^[A-Za-z]$/.test(bare)) return false;
  return !ABBREVIATIONS.has(bare.toLowerCase());
}

/**
 * First sentence (or line) of a description, whitespace collapsed. Never cut at an
 * abbreviation ("e.g.", "i.e.", "etc."), inside a number, version or URL, or inside
 * `code`: only a period, "!" or "?" at the end of an ordinary word, before a space.
 */
export function firstSentence(text: string | undefined): string | undefined {
  const line = firstLine(text);
  if (!line) return undefined;
  const words = line.split(/\s+/);
  let inCode = false;
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    // Backticks toggle code spans; nothing inside one ends a sentence.
    if ((w.match(/`/g)?.length ?? 0) % 2 === 1) inCode = !inCode;
    if (!inCode && endsSentence(w)) return words.slice(0, i + 1).join(' ');
  }
  return words.join(' ');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function describe(text: string | undefined, style: PromptStyle): string | undefined {
  if (!text?.trim()) return undefined;
  return style === 'full' ? oneLine(text) : firstSentence(text);
}

function definitionText(def: Definition, style: PromptStyle): string {
  if (def.kind === 'alias') return `${def.name} = ${printType(def.type)}`;
  const head = `class ${def.name}(TypedDict):${def.description && style === 'full' ? `  # ${oneLine(def.description)}` : ''}`;
  const fields = def.fields.map((f) => {
    const type = f.required ? printType(f.type) : `NotRequired[${printType(f.type)}]`;
    let doc = describe(f.description, style);
    if (doc && style === 'compact' && restatesName(doc, f.key, def.name)) doc = undefined;
    doc = withConstraints(f.constraints, doc);
    return `    ${isPythonIdentifier(f.key) ? f.key : JSON.stringify(f.key)}: ${type}${doc ? `  # ${doc}` : ''}`;
  });
  return [head, ...fields].join('\n');
}

const FILLER = new Set(['the', 'a', 'an', 'of', 'to', 'in', 'for', 'is', 'be', 'this', 'that', 'with', 'on', 'id']);
const words = (text: string) =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !FILLER.has(w));

/** "Repository name" for `name` in `create_repository` says nothing the signature does not. */
export function restatesName(description: string, paramName: string, toolName: string): boolean {
  const stem = (w: string) => w.replace(/s$/, '');
  const known = new Set([...words(paramName), ...words(toolName)].map(stem));
  const said = words(description);
  return said.length > 0 && said.length <= 4 && said.every((w) => known.has(stem(w)));
}

/** Parameter docs shared by two or more tools, said once for all (`owner`, `repo`, ...). */
function commonParamDocs(mods: PythonSdk['modules'], style: PromptStyle): Map<string, string> {
  const seen = new Map<string, number>();
  for (const mod of mods) {
    for (const sig of mod.signatures.values()) {
      for (const p of sig.params) {
        const d = describe(p.description, style);
        if (d) seen.set(`${p.pyName}\0${d}`, (seen.get(`${p.pyName}\0${d}`) ?? 0) + 1);
      }
    }
  }
  const common = new Map<string, string>();
  for (const [key, n] of seen) {
    const [name, doc] = key.split('\0') as [string, string];
    if (n >= 2 && !common.has(name)) common.set(name, doc);
  }
  return common;
}

/**
 * A parameter as the model reads it: `limit: int = 30` (the tool's own default, not sent
 * unless passed), `note: str | None = ...` (nullable, no default: None is sent as null),
 * `q: str = None` (None means "not given"). The SDK's markers never show (see emit-python.ts).
 */
function paramText(p: Param, defs: Definition[]): string {
  const type = printType(p.type);
  if (p.required) return `${p.pyName}: ${type}`;
  if (p.default !== undefined) return `${p.pyName}: ${type} = ${p.default}`;
  return `${p.pyName}: ${type} = ${allowsNone(p.type, defs) ? '...' : 'None'}`;
}

function signatureText(tool: ToolIR, sig: ToolSignature, defs: Definition[], style: PromptStyle, prefix: string, common: Map<string, string>): string {
  const params = sig.params.map((p) => paramText(p, defs));
  const req = params.filter((_, i) => sig.params[i]!.required);
  const opt = params.filter((_, i) => !sig.params[i]!.required);
  const all = [...req, ...(opt.length ? ['*', ...opt] : []), ...(sig.extra ? [`**extra: ${printType(sig.extra)}`] : [])];
  const returns = sig.result.kind === 'any' ? '' : ` -> ${printType(sig.result)}`;
  const lines = [`def ${prefix}${tool.pyName}(${all.join(', ')})${returns}`];
  const doc = describe(tool.description, style) ?? tool.title;
  const docs: string[] = doc ? [doc] : [];
  for (const p of sig.params) {
    let d = describe(p.description, style);
    if (d && common.get(p.pyName) === d) d = undefined;
    if (d && style === 'compact' && restatesName(d, p.pyName, tool.pyName)) d = undefined;
    const line = withConstraints(p.constraints, d);
    if (line) docs.push(`${p.pyName}: ${line}`);
  }
  return lines.concat(docs.map((d) => `    # ${d}`)).join('\n');
}

export function emitPrompt(sdk: PythonSdk, options: { moduleName: string; style: PromptStyle; notes?: string[] }): string {
  const { style, moduleName } = options;
  const blocks: string[] = [];
  const common = style === 'index' ? new Map<string, string>() : commonParamDocs(sdk.modules, style);
  if (common.size) blocks.push(['# Parameters of several tools:', ...[...common].map(([n, d]) => `#   ${n}: ${d}`)].join('\n'));
  for (const mod of sdk.modules) {
    const prefix = mod.namespace ? `${mod.namespace}.` : '';
    if (style === 'index') {
      for (const t of mod.tools) blocks.push(`${prefix}${t.pyName}: ${firstSentence(t.description) ?? t.title ?? ''}`.trimEnd());
      continue;
    }
    if (mod.namespace) blocks.push(`# ${moduleName}.${mod.namespace}`);
    for (const def of mod.definitions) blocks.push(definitionText(def, style));
    for (const t of mod.tools) blocks.push(signatureText(t, mod.signatures.get(t.name)!, mod.definitions, style, prefix, common));
  }
  const template = Handlebars.compile(readFileSync(join(packageRoot(), 'templates', 'prompt.md.hbs'), 'utf8'), { noEscape: true, strict: true });
  // The rule for None as a value is said only where a parameter takes it.
  const nullable = sdk.modules.some((m) => [...m.signatures.values()].some((s) => s.params.some((p) => !p.required && allowsNone(p.type, m.definitions))));
  // notes: one line each about the rest of the sandbox (packages, the setup's globals).
  return template({ module: moduleName, index: style === 'index', nullable, notes: options.notes ?? [], code: blocks.join(style === 'index' ? '\n' : '\n\n') });
}
