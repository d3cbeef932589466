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

export interface CheckTable {
  version: 1;
  module: string;
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

export function emitCheckTable(sdk: PythonSdk, moduleName: string): string {
  const table: CheckTable = { version: 1, module: moduleName, modules: {} };
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
