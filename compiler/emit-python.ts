// Stage 3, emit Python: the typed SDK. TypeScript decides everything (names, types,
// docstrings); the Handlebars templates in templates/python only lay it out.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { packageRoot } from '../runtime/package-root.js';
import type { Diagnostics } from './diagnostics.js';
import type { ToolIR } from './normalize.js';
import { withConstraints } from './python/constraints.js';
import { type Definition, type PyType, allowsNone, printType, pyLiteral } from './python/model.js';
import { NameScope, SDK_EXPORTS, SDK_RESERVED, isPythonIdentifier } from './python/names.js';
import { type Param, PythonTypes, type ToolSignature, firstLine } from './python/schema-to-python.js';

export interface PythonModule {
  /** Module name inside the SDK package (`undefined` for the package itself). */
  namespace?: string;
  tools: ToolIR[];
  signatures: Map<string, ToolSignature>;
  definitions: Definition[];
}

export interface PythonSdk {
  /** Files relative to the SDK folder: `tools/__init__.py`, `_tic.pyi`, ... */
  files: Map<string, string>;
  modules: PythonModule[];
}

const templates = new Map<string, HandlebarsTemplateDelegate>();
function template(name: string): HandlebarsTemplateDelegate {
  let t = templates.get(name);
  if (!t) {
    t = Handlebars.compile(readFileSync(join(packageRoot(), 'templates', name), 'utf8'), { noEscape: true, strict: true });
    templates.set(name, t);
  }
  return t;
}

/** Text safe inside a triple-quoted docstring, continuation lines indented. */
export function docstring(text: string, indent: string): string {
  const safe = text.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"').trim();
  const lines = safe.split('\n').map((l) => l.trimEnd());
  const body = lines.map((l, i) => (i === 0 || l === '' ? l : indent + l)).join('\n');
  // A docstring may not end in a quote right before the closing """.
  return body.endsWith('"') ? `${body} ` : body;
}

// How a parameter the cell did not pass stays unsent: its default in the .py is a marker
// from `_tic` (`_default(30)`, or `_NOT_GIVEN` for a nullable parameter with no default)
// whose repr is the schema default (`30`, `...`), so `help(tools.x)` reads like the prompt
// (`limit: int = 30`) while `_call` drops every marker before the request is sent. The
// markers are typed `Any` in _tic.pyi, so strict pyright sees plain defaults. A default
// stays documentation: the tool applies its own. `None` for a parameter whose type has no
// `None` means "not given" too (the `optional` tuple of the call); where the schema allows
// null, `None` is a value and is sent as null.
type Marker = '_default' | '_NOT_GIVEN';

function paramDecl(p: Param, defs: Definition[], used: Set<Marker>): string {
  const type = printType(p.type);
  if (p.required) return `${p.pyName}: ${type}`;
  if (p.default !== undefined) {
    used.add('_default');
    return `${p.pyName}: ${type} = _default(${p.default})`;
  }
  if (allowsNone(p.type, defs)) {
    used.add('_NOT_GIVEN');
    return `${p.pyName}: ${type} = _NOT_GIVEN`;
  }
  return `${p.pyName}: ${type === 'None' || type.endsWith(' | None') ? type : `${type} | None`} = None`;
}

function paramsText(sig: ToolSignature, defs: Definition[], used: Set<Marker>): string {
  const req = sig.params.filter((p) => p.required).map((p) => paramDecl(p, defs, used));
  const opt = sig.params.filter((p) => !p.required).map((p) => paramDecl(p, defs, used));
  const parts = [...req];
  if (opt.length) parts.push('*', ...opt);
  if (sig.extra) parts.push(`**extra: ${printType(sig.extra)}`);
  return parts.join(', ');
}

function callArgs(tool: ToolIR, sig: ToolSignature, defs: Definition[]): string {
  const entries = sig.params.map((p) => `${JSON.stringify(p.key)}: ${p.pyName}`).join(', ');
  const dict = sig.extra ? `{${entries}${entries ? ', ' : ''}**extra}` : `{${entries}}`;
  // The optional parameters for which None means "not given" (their type has no None).
  const optional = sig.params.filter((p) => !p.required && !allowsNone(p.type, defs)).map((p) => JSON.stringify(p.key));
  const opt = `(${optional.join(', ')}${optional.length === 1 ? ',' : ''})`;
  const ns = tool.namespace !== undefined ? `, ${opt}, ${JSON.stringify(tool.namespace)}` : optional.length ? `, ${opt}` : '';
  return `${JSON.stringify(tool.name)}, ${dict}${ns}`;
}

export function functionDoc(tool: ToolIR, sig: ToolSignature): string {
  const parts: string[] = [];
  parts.push(tool.description.trim() || tool.title || `Calls the ${JSON.stringify(tool.name)} tool.`);
  const documented = sig.params.filter((p) => p.description?.trim() || p.constraints);
  if (documented.length) {
    const line = (p: Param) => withConstraints(p.constraints, p.description?.trim().replace(/\n\s*/g, ' ') || undefined)!;
    parts.push('Args:\n' + documented.map((p) => `    ${p.pyName}: ${line(p)}`).join('\n'));
  }
  return docstring(parts.join('\n\n'), '    ');
}

/** Exactly the `typing` names the module uses (strict pyright rejects unused imports). */
function typingNames(mod: PythonModule): string[] {
  const types: PyType[] = [];
  for (const sig of mod.signatures.values()) types.push(sig.result, ...sig.params.map((p) => p.type), ...(sig.extra ? [sig.extra] : []));
  for (const d of mod.definitions) types.push(...(d.kind === 'alias' ? [d.type] : d.fields.map((f) => f.type)));
  const printed = types.map(printType).join(' ');
  const has = (re: RegExp) => re.test(printed);
  const out: string[] = [];
  if (has(/\bAny\b/)) out.push('Any');
  if (has(/\bLiteral\[/)) out.push('Literal');
  if (mod.definitions.some((d) => d.kind === 'typeddict' && d.fields.some((f) => !f.required))) out.push('NotRequired');
  if (mod.definitions.some((d) => d.kind === 'alias')) out.push('TypeAlias');
  if (mod.definitions.some((d) => d.kind === 'typeddict')) out.push('TypedDict');
  return out;
}

function definitionView(def: Definition) {
  // A string: the alias may refer to itself or to names defined further down.
  if (def.kind === 'alias') return { name: def.name, alias: JSON.stringify(printType(def.type)), classForm: false, functionalForm: false };
  const classForm = def.fields.every((f) => isPythonIdentifier(f.key) && !SDK_RESERVED.has(f.key));
  const fieldType = (f: { type: PyType; required: boolean }) => (f.required ? printType(f.type) : `NotRequired[${printType(f.type)}]`);
  if (classForm) {
    return {
      name: def.name,
      classForm: true,
      functionalForm: false,
      alias: false,
      doc: def.description ? docstring(def.description, '    ') : '',
      fields: def.fields.map((f) => {
        const doc = withConstraints(f.constraints, f.description?.trim() || undefined);
        return { key: f.key, type: fieldType(f), doc: doc ? docstring(doc, '    ') : '' };
      }),
    };
  }
  // Keys that are not identifiers need the functional form; its values are evaluated at
  // run time, so they are written as strings (forward references).
  return {
    name: def.name,
    classForm: false,
    functionalForm: true,
    alias: false,
    functionalFields: def.fields.map((f) => `${JSON.stringify(f.key)}: ${JSON.stringify(fieldType(f))}`).join(', '),
  };
}

function renderModule(mod: PythonModule, version: string, source: string): string {
  const markers = new Set<Marker>();
  const functions = mod.tools.map((tool) => {
    const sig = mod.signatures.get(tool.name)!;
    const qualified = mod.namespace ? `${mod.namespace}.${tool.pyName}` : tool.pyName;
    return {
      name: tool.pyName,
      params: paramsText(sig, mod.definitions, markers),
      returns: printType(sig.result),
      doc: functionDoc(tool, sig),
      call: callArgs(tool, sig, mod.definitions),
      pyLiteralName: pyLiteral(qualified),
      pyLiteralTool: pyLiteral(tool.name),
      pyLiteralSummary: pyLiteral(firstLine(tool.description) ?? tool.title ?? ''),
    };
  });
  const definitions = mod.definitions.map(definitionView);
  const all = [...mod.definitions.map((d) => d.name), ...mod.tools.map((t) => t.pyName), ...SDK_EXPORTS];
  const typingImports = typingNames(mod);
  return template('python/module.py.hbs')({
    version,
    source,
    docstring: docstring(
      mod.namespace
        ? `Tools of ${mod.namespace}: call them like functions; each returns the tool's result as plain Python data.`
        : 'Tools: call them like functions; each returns the tool\'s result as plain Python data.\n\nImages, audio and resources a tool returns are Image, Audio, Resource and ResourceLink objects. A failed call raises ToolError (ToolArgumentError when the arguments break the tool\'s schema). `search_tools("words")` finds tools; `help(NAME)` shows one.',
      '',
    ),
    typingImports: typingImports.join(', '),
    // Only what the module uses: strict pyright reports an unused private import.
    ticImports: [
      'Audio as Audio',
      'Image as Image',
      'Resource as Resource',
      'ResourceLink as ResourceLink',
      'ToolArgumentError as ToolArgumentError',
      'ToolError as ToolError',
      ...(markers.has('_NOT_GIVEN') ? ['NOT_GIVEN as _NOT_GIVEN'] : []),
      'call as _call',
      'call_async as _call_async',
      ...(markers.has('_default') ? ['default as _default'] : []),
      'search as _search',
    ].join(', '),
    all: all.map((n) => JSON.stringify(n)).join(', '),
    definitions,
    functions,
  });
}

/** Builds the SDK package `<moduleName>/` (one submodule per namespace when there are several). */
export function emitPython(
  tools: ToolIR[],
  options: { moduleName: string; version: string; sources: string[] },
  diags: Diagnostics,
): PythonSdk {
  const byNamespace = new Map<string | undefined, ToolIR[]>();
  for (const t of tools) {
    const list = byNamespace.get(t.namespace) ?? [];
    list.push(t);
    byNamespace.set(t.namespace, list);
  }
  const modules: PythonModule[] = [];
  for (const [namespace, list] of byNamespace) {
    const scope = new NameScope([...SDK_RESERVED, ...list.map((t) => t.pyName)], true);
    const types = new PythonTypes(scope, diags);
    const signatures = new Map<string, ToolSignature>();
    for (const t of list) signatures.set(t.name, types.signature(t));
    modules.push({ ...(namespace !== undefined ? { namespace } : {}), tools: list, signatures, definitions: types.definitions });
  }
  const files = new Map<string, string>();
  const pkg = options.moduleName;
  const namespaced = modules.filter((m) => m.namespace !== undefined);
  const top = modules.find((m) => m.namespace === undefined);
  if (namespaced.length === 0) {
    files.set(`${pkg}/__init__.py`, renderModule(top ?? { tools: [], signatures: new Map(), definitions: [] }, options.version, options.sources.join(', ')));
  } else {
    if (top) throw new Error('emitPython: every tool needs a namespace when any has one');
    for (const m of namespaced) files.set(`${pkg}/${m.namespace}.py`, renderModule(m, options.version, options.sources.join(', ')));
    const names = namespaced.map((m) => m.namespace!);
    files.set(
      `${pkg}/__init__.py`,
      template('python/package.py.hbs')({
        version: options.version,
        docstring: docstring(`Tools, by namespace: ${names.join(', ')}. A failed call raises ToolError; \`search_tools("words")\` finds tools.`, ''),
        namespaces: names,
        all: [...names, ...SDK_EXPORTS.filter((n) => n !== 'aio')].map((n) => JSON.stringify(n)).join(', '),
        modules: names.length === 1 ? `${names[0]},` : names.join(', '),
      }),
    );
  }
  files.set(`${pkg}/py.typed`, '');
  files.set('_tic.pyi', readFileSync(join(packageRoot(), 'templates', 'python', '_tic.pyi'), 'utf8'));
  return { files, modules };
}
