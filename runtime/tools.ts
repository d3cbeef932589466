// The host side of SDK calls, independent of threads: finding a tool's handler, checking
// the arguments against the tool's JSON Schema, and turning what a handler returns (plain
// data or an MCP CallToolResult) into the reply the guest decodes.

import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajvFor } from '../compiler/schema-ajv.js';

/** One tool as `tic build` wrote it to tools.json. */
export interface ToolSpec {
  name: string;
  pyName: string;
  namespace?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

/** The error of a failed call, as the guest raises it (see `_tic._result`). */
export interface CallError {
  /** `argument` (schema violation: TypeError/ValueError), `timeout` (TimeoutError), `tool` (anything else). */
  kind: 'argument' | 'timeout' | 'tool';
  /** The error's type name: the JS error's name for a handler that threw. */
  type: string;
  message: string;
}

export type CallReply = { ok: true; value: unknown } | { ok: false; error: CallError };

export class ToolArgumentError extends Error {
  override name = 'ToolArgumentError';
}

function compileValidator(schema: Record<string, unknown>): ValidateFunction | undefined {
  const { ajv, schema: rest } = ajvFor(schema);
  try {
    return ajv.compile(rest);
  } catch {
    return undefined; // tic build accepted it; a schema ajv cannot compile is not checked
  }
}

/** Reads one ajv error as a sentence about the argument it concerns. */
function describeViolation(e: ErrorObject): string {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const where = path.length ? `argument ${JSON.stringify(path[0])}${path.slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('')}` : 'the arguments';
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return path.length
        ? `${where}: missing required field ${JSON.stringify(params.missingProperty)}`
        : `missing required argument ${JSON.stringify(params.missingProperty)}`;
    case 'additionalProperties':
      return path.length
        ? `${where}: unexpected field ${JSON.stringify(params.additionalProperty)}`
        : `unexpected argument ${JSON.stringify(params.additionalProperty)}`;
    case 'enum':
      return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${where} must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${where} ${e.message ?? 'is invalid'} (${e.keyword})`;
  }
}

/** The tools of one build, with their validators compiled on first use. */
export class ToolTable {
  private readonly byKey = new Map<string, ToolSpec>();
  private readonly validators = new Map<ToolSpec, ValidateFunction | undefined>();

  constructor(readonly tools: ToolSpec[]) {
    for (const t of tools) this.byKey.set(ToolTable.key(t.name, t.namespace), t);
  }

  static key(name: string, namespace?: string): string {
    return namespace === undefined ? name : `${namespace}\0${name}`;
  }

  get(name: string, namespace?: string): ToolSpec | undefined {
    return this.byKey.get(ToolTable.key(name, namespace));
  }

  /** Throws ToolArgumentError naming the argument and the rule it breaks. */
  check(tool: ToolSpec, args: unknown): void {
    if (!this.validators.has(tool)) this.validators.set(tool, compileValidator(tool.inputSchema));
    const validate = this.validators.get(tool);
    if (validate && !validate(args)) throw new ToolArgumentError(`${tool.pyName}(): ${describeViolation(validate.errors![0]!)}`);
  }
}

function isMcpContentList(v: unknown): v is { type: string; [k: string]: unknown }[] {
  return Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && typeof (c as { type?: unknown }).type === 'string');
}

/**
 * What the guest receives for a handler's return value. An MCP CallToolResult
 * (`{content: [...], structuredContent?, isError?}`) becomes its structuredContent when
 * it has one, else the text of its single text block, else the list of blocks (text
 * blocks as strings); `isError` makes the call fail with the text as message. Any other
 * value is passed through as JSON.
 */
export function toReply(value: unknown): CallReply {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const r = value as Record<string, unknown>;
    const keys = Object.keys(r);
    if (isMcpContentList(r.content) && keys.every((k) => ['content', 'structuredContent', 'isError', '_meta'].includes(k))) {
      const blocks = r.content.map((c) => (c.type === 'text' && typeof c.text === 'string' ? c.text : c));
      if (r.isError === true) {
        const message = blocks.map((b) => (typeof b === 'string' ? b : JSON.stringify(b))).join('\n') || 'the tool reported an error';
        return { ok: false, error: { kind: 'tool', type: 'ToolError', message } };
      }
      if (r.structuredContent !== undefined) return { ok: true, value: r.structuredContent };
      if (blocks.length === 1 && typeof blocks[0] === 'string') return { ok: true, value: blocks[0] };
      return { ok: true, value: blocks };
    }
  }
  return { ok: true, value: value === undefined ? null : value };
}

/** The reply for a handler that threw (or rejected). */
export function errorReply(err: unknown): CallReply {
  if (err instanceof ToolArgumentError) return { ok: false, error: { kind: 'argument', type: 'ToolArgumentError', message: err.message } };
  if (err instanceof Error) return { ok: false, error: { kind: 'tool', type: err.name || 'Error', message: err.message } };
  return { ok: false, error: { kind: 'tool', type: 'Error', message: String(err) } };
}
