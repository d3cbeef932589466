// The host side of SDK calls, independent of threads: finding a tool's handler, checking
// the arguments against the tool's JSON Schema, and turning what a handler returns (plain
// data or an MCP CallToolResult) into the reply the guest decodes.

import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajvFor, preparedSchema } from '../compiler/schema-ajv.js';
import type { CheckKind, PrebuiltLookup } from './validators.js';

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

/** One MCP content block, as the server sent it (the guest decodes `image`, `audio`, `resource`, `resource_link`). */
export type ContentBlock = { type: string; [k: string]: unknown };

/**
 * A successful call carries either a plain JSON `value` or, for an MCP result whose
 * content is more than text, its `content` blocks (the guest turns them into `Image`,
 * `Audio`, `Resource`, ... objects; plain data could never be mistaken for them).
 */
export type CallReply = { ok: true; value: unknown } | { ok: true; content: ContentBlock[] } | { ok: false; error: CallError };

/** How a session treats a result that breaks its tool's `outputSchema`. */
export type OutputSchemaMode = 'error' | 'warn' | 'off';

export class ToolArgumentError extends Error {
  override name = 'ToolArgumentError';
}

function compileValidator(schema: Record<string, unknown>): ValidateFunction | undefined {
  const { ajv } = ajvFor(schema); // outside the try: ajv missing is an error, not an unchecked tool
  try {
    return ajv.compile(preparedSchema(schema));
  } catch {
    return undefined; // tic build accepted it; a schema ajv cannot compile is not checked
  }
}

const segments = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

/** `[2].id`, `["a b"]`: the rest of a path after its root, as Python would index it. */
const pathTail = (path: string[]) => path.map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');

/** Reads one ajv error as a sentence about the argument it concerns. */
function describeViolation(e: ErrorObject): string {
  const path = segments(e.instancePath);
  const where = path.length ? `argument ${JSON.stringify(path[0])}${pathTail(path.slice(1))}` : 'the arguments';
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

/** Reads one ajv error about a result: `result.items[2].id: must be integer`. */
function describeResultViolation(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  const extra = e.keyword === 'additionalProperties' ? ` (${JSON.stringify(params.additionalProperty)})` : e.keyword === 'enum' ? `: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` : '';
  return `result${pathTail(segments(e.instancePath))}: ${e.message ?? 'is invalid'}${extra}`;
}

/** The tools of one build, with their validators compiled on first use. */
export class ToolTable {
  private readonly byKey = new Map<string, ToolSpec>();
  private readonly validators = new Map<ToolSpec, ValidateFunction | undefined>();
  private readonly resultValidators = new Map<ToolSpec, ValidateFunction | undefined>();

  private readonly index = new Map<ToolSpec, number>();

  /** `prebuilt`: the checks tic build compiled ahead (runtime/validators.ts), tried first. */
  constructor(
    readonly tools: ToolSpec[],
    private readonly prebuilt?: PrebuiltLookup,
  ) {
    tools.forEach((t, i) => {
      this.byKey.set(ToolTable.key(t.name, t.namespace), t);
      this.index.set(t, i);
    });
  }

  /** The tool's check of one kind: prebuilt when there is one for this schema, else compiled now. */
  private validator(tool: ToolSpec, kind: CheckKind, schema: Record<string, unknown>): ValidateFunction | undefined {
    const i = this.index.get(tool);
    const prebuilt = i === undefined ? undefined : this.prebuilt?.(kind, i, schema);
    return prebuilt ? prebuilt.validate : compileValidator(schema);
  }

  static key(name: string, namespace?: string): string {
    return namespace === undefined ? name : `${namespace}\0${name}`;
  }

  get(name: string, namespace?: string): ToolSpec | undefined {
    return this.byKey.get(ToolTable.key(name, namespace));
  }

  /** Throws ToolArgumentError naming the argument and the rule it breaks. */
  check(tool: ToolSpec, args: unknown): void {
    if (!this.validators.has(tool)) this.validators.set(tool, this.validator(tool, 'i', tool.inputSchema));
    const validate = this.validators.get(tool);
    if (validate && !validate(args)) throw new ToolArgumentError(`${tool.pyName}(): ${describeViolation(validate.errors![0]!)}`);
  }

  /**
   * What is wrong with a handler's result for a tool that declares an `outputSchema`
   * (`get_weather(): result.temp: must be number`), or undefined when it fits or the tool
   * declares none. Content blocks (an image, say) are not data and are not checked.
   */
  checkResult(tool: ToolSpec, reply: CallReply): string | undefined {
    if (!tool.outputSchema || !reply.ok || !('value' in reply)) return undefined;
    if (!this.resultValidators.has(tool)) this.resultValidators.set(tool, this.validator(tool, 'o', tool.outputSchema));
    const validate = this.resultValidators.get(tool);
    if (!validate || validate(reply.value)) return undefined;
    return `${tool.pyName}(): the result does not match the tool's outputSchema: ${describeResultViolation(validate.errors![0]!)}`;
  }
}

function isMcpContentList(v: unknown): v is ContentBlock[] {
  return Array.isArray(v) && v.every((c) => typeof c === 'object' && c !== null && typeof (c as { type?: unknown }).type === 'string');
}

const textOf = (c: ContentBlock) => (c.type === 'text' && typeof c.text === 'string' ? c.text : undefined);

/**
 * What the guest receives for a handler's return value. An MCP CallToolResult
 * (`{content: [...], structuredContent?, isError?}`) becomes:
 * - `isError`: a failed call, its text as the message;
 * - its `structuredContent` when it has one;
 * - the text of a single text block, parsed as JSON when the tool declares an
 *   `outputSchema` (MCP servers before structuredContent sent their data that way);
 * - text blocks only: a list of strings;
 * - else its content blocks, which the guest turns into objects (`Image`, `Audio`,
 *   `Resource`, `ResourceLink`; text stays a string).
 * Any other value is passed through as JSON.
 */
export function toReply(value: unknown, tool?: Pick<ToolSpec, 'outputSchema'>): CallReply {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const r = value as Record<string, unknown>;
    const keys = Object.keys(r);
    if (isMcpContentList(r.content) && keys.every((k) => ['content', 'structuredContent', 'isError', '_meta'].includes(k))) {
      const content = r.content;
      if (r.isError === true) {
        const message = content.map((c) => textOf(c) ?? JSON.stringify(c)).join('\n') || 'the tool reported an error';
        return { ok: false, error: { kind: 'tool', type: 'ToolError', message } };
      }
      if (r.structuredContent !== undefined) return { ok: true, value: r.structuredContent };
      const texts = content.map(textOf);
      if (texts.length === 1 && texts[0] !== undefined) {
        if (tool?.outputSchema) {
          try {
            return { ok: true, value: JSON.parse(texts[0]) as unknown };
          } catch {
            /* not JSON: the text is the value (and the output check says what is wrong) */
          }
        }
        return { ok: true, value: texts[0] };
      }
      if (texts.every((t) => t !== undefined)) return { ok: true, value: texts };
      return { ok: true, content };
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
