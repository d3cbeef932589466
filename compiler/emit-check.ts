// Stage 3b, the check table: what the guest's pre-flight check (guest/python/_tic/check.py)
// knows about each SDK function, written to the SDK folder as `_tic_check.json`.
//
// For each function: the tool's original name, its parameters in the order Python binds
// them (required ones positional-or-keyword, the rest keyword-only), whether it takes
// `**extra`, which optional parameters take None as "not given", the signature as the
// prompt shows it, and the tool's input schema: the same schema the host's ajv check uses
// (tools.json), or null when ajv cannot compile it (the host then checks nothing, and
// neither may the guest: a value the guest refused would have run).

import type { PythonSdk } from './emit-python.js';
import { allowsNone, printType } from './python/model.js';
import type { Param, ToolSignature } from './python/schema-to-python.js';
import type { Definition } from './python/model.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ajvFor } from './schema-ajv.js';

export const CHECK_TABLE_FILE = '_tic_check.json';

/** One parameter: [python name, JSON key, required, None means "not given"]. */
export type CheckParam = [string, string, boolean, boolean];

export interface CheckFunction {
  tool: string;
  params: CheckParam[];
  extra: boolean;
  /** `tools.github.create_issue(title: str, *, body: str | None = None) -> Issue` */
  signature: string;
  /** The tool's input schema when the host validates arguments against it, else null. */
  schema: Record<string, unknown> | null;
}

/** A string format ajv-formats checks with a regex: its source and flags (`i`), the same in Python's `re`. */
export interface CheckFormat {
  source: string;
  flags: string;
  /** A second regex the value must match too (`uri`: it must contain `/` or `:`). */
  also?: string;
}

export interface CheckTable {
  version: 1;
  module: string;
  /** The formats the host checks with a regex (ajv-formats, full mode), by name. */
  formats: Record<string, CheckFormat>;
  /** By namespace ("" for a build without namespaces): the functions by Python name. */
  modules: Record<string, Record<string, CheckFunction>>;
}

/** A parameter as the prompt writes it (see emit-prompt.ts `paramText`). */
function paramText(p: Param, defs: Definition[]): string {
  const type = printType(p.type);
  if (p.required) return `${p.pyName}: ${type}`;
  if (p.default !== undefined) return `${p.pyName}: ${type} = ${p.default}`;
  return `${p.pyName}: ${type} = ${allowsNone(p.type, defs) ? '...' : 'None'}`;
}

export function signatureLine(qualified: string, sig: ToolSignature, defs: Definition[]): string {
  const req = sig.params.filter((p) => p.required).map((p) => paramText(p, defs));
  const opt = sig.params.filter((p) => !p.required).map((p) => paramText(p, defs));
  const all = [...req, ...(opt.length ? ['*', ...opt] : []), ...(sig.extra ? [`**extra: ${printType(sig.extra)}`] : [])];
  const returns = sig.result.kind === 'any' ? '' : ` -> ${printType(sig.result)}`;
  return `${qualified}(${all.join(', ')})${returns}`;
}

/** The schema if ajv compiles it (as the host's ToolTable does), else null. */
function hostValidated(schema: Record<string, unknown>): Record<string, unknown> | null {
  try {
    const { ajv, schema: rest } = ajvFor(schema);
    ajv.compile(rest);
    return schema;
  } catch {
    return null;
  }
}

/**
 * The regex formats of ajv-formats (full mode, as schema-ajv.ts adds them), for the guest to
 * check literals with exactly the host's regexes. Formats with a `u` flag (url) are left out:
 * Python's `re` reads `\u{...}` differently. `uri` is a function in ajv-formats: its regex
 * is not exported, so it is read from the module's source (left out if that ever changes).
 */
function regexFormats(): Record<string, CheckFormat> {
  const require = createRequire(import.meta.url);
  const formats: Record<string, CheckFormat> = {};
  const full = (require('ajv-formats/dist/formats.js') as { fullFormats: Record<string, unknown> }).fullFormats;
  for (const [name, def] of Object.entries(full)) {
    const rx = def instanceof RegExp ? def : def && typeof def === 'object' && (def as { validate?: unknown }).validate instanceof RegExp ? ((def as { validate: RegExp }).validate) : undefined;
    if (rx && /^i?$/.test(rx.flags)) formats[name] = { source: rx.source, flags: rx.flags };
  }
  try {
    const text = readFileSync(require.resolve('ajv-formats/dist/formats.js'), 'utf8');
    const uri = /^const URI = \/(.*)\/i;$/m.exec(text)?.[1];
    const fragment = /^const NOT_URI_FRAGMENT = \/(.*)\/;$/m.exec(text)?.[1];
    if (uri && fragment && /return NOT_URI_FRAGMENT\.test\(str\) && URI\.test\(str\);/.test(text)) formats.uri = { source: uri, flags: 'i', also: fragment };
  } catch {
    // no uri: the guest does not check it
  }
  return formats;
}

let formatsCache: Record<string, CheckFormat> | undefined;

export function emitCheckTable(sdk: PythonSdk, moduleName: string): string {
  const table: CheckTable = { version: 1, module: moduleName, formats: (formatsCache ??= regexFormats()), modules: {} };
  for (const mod of sdk.modules) {
    const ns = mod.namespace ?? '';
    const functions: Record<string, CheckFunction> = {};
    for (const tool of mod.tools) {
      const sig = mod.signatures.get(tool.name)!;
      // Python binds the required parameters first (positional), then the keyword-only ones.
      const ordered = [...sig.params.filter((p) => p.required), ...sig.params.filter((p) => !p.required)];
      functions[tool.pyName] = {
        tool: tool.name,
        params: ordered.map((p) => [p.pyName, p.key, p.required, !p.required && !allowsNone(p.type, mod.definitions)]),
        extra: sig.extra !== undefined,
        signature: signatureLine(`${moduleName}.${ns ? `${ns}.` : ''}${tool.pyName}`, sig, mod.definitions),
        schema: hostValidated(tool.inputSchema),
      };
    }
    table.modules[ns] = functions;
  }
  return JSON.stringify(table);
}
