// The request protocol between the SDK in the guest (`_tic.call`, `_tic.aio`) and the
// host, over the one `tic.call` import (JSON in, JSON out):
//
//   {"op":"call", "tool", "args", "namespace"?}
//       -> a CallReply: {"ok":true,"value"} or {"ok":false,"error":{kind,type,message}}
//   {"op":"wait", "start"?: [{"id", "tool", "args", "namespace"?}], "timeout": seconds | null}
//       -> {"done":[{"id", ...CallReply}]}, or {"timeout":true,"message"} at the deadline
//
// `call` is a blocking call. `wait` is how the guest's event loop runs `aio` calls: it
// starts the calls made since its last wait, all at once, and blocks until at least one
// call finishes (or its next timer is due).
//
// Everything the guest sends is hostile input (any bytes reach `tic.call`): it is checked
// for size, nesting and key count by the session's own worker (`checkRequest`) before the
// main thread parses it, and parsed into a typed request or refused (`parseRequest`),
// never trusted to have a shape.

import type { CallReply } from './tools.js';

export interface ToolRequest {
  tool: string;
  namespace?: string;
  args: Record<string, unknown>;
}

export type GuestRequest =
  | { op: 'call'; req: ToolRequest }
  | { op: 'wait'; start: { id: number; req: ToolRequest }[]; timeoutMs: number | null }
  | { op: 'bad'; message: string };

/** Nesting a request or result may have: ajv validates recursively, deeper would risk the host's stack. */
export const MAX_JSON_DEPTH = 256;
/** Object keys in one request: parsing is cheap for arrays and strings, costly per key (about 0.4 ms per 1,000). */
export const MAX_REQUEST_KEYS = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toolRequest(raw: unknown): ToolRequest | string {
  if (!isObject(raw)) return 'a call is not a JSON object';
  if (typeof raw.tool !== 'string') return 'the guest sent a call without a tool name';
  if (raw.args !== undefined && !isObject(raw.args)) return `the arguments of ${JSON.stringify(raw.tool.slice(0, 100))} are not a JSON object`;
  if (raw.namespace !== undefined && typeof raw.namespace !== 'string') return 'a call names a namespace that is not a string';
  return { tool: raw.tool, args: (raw.args as Record<string, unknown> | undefined) ?? {}, ...(raw.namespace !== undefined ? { namespace: raw.namespace as string } : {}) };
}

/** The typed request in `text`, or why it is refused; never throws, whatever the text. */
export function parseRequest(text: string): GuestRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { op: 'bad', message: 'the guest sent a request that is not JSON' };
  }
  if (!isObject(raw)) return { op: 'bad', message: 'the guest sent a request that is not a JSON object' };
  if (raw.op === 'wait') {
    if (raw.start !== undefined && !Array.isArray(raw.start)) return { op: 'bad', message: 'the calls a wait starts are not a list' };
    if (raw.timeout !== undefined && raw.timeout !== null && (typeof raw.timeout !== 'number' || !(raw.timeout >= 0))) {
      return { op: 'bad', message: 'a wait has a timeout that is not a number of seconds' };
    }
    const start: { id: number; req: ToolRequest }[] = [];
    for (const s of (raw.start as unknown[] | undefined) ?? []) {
      const req = toolRequest(s);
      if (typeof req === 'string') return { op: 'bad', message: req };
      const id = (s as Record<string, unknown>).id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { op: 'bad', message: 'a started call has no integer id' };
      start.push({ id, req });
    }
    return { op: 'wait', start, timeoutMs: typeof raw.timeout === 'number' ? raw.timeout * 1000 : null };
  }
  if (raw.op !== undefined && raw.op !== 'call') return { op: 'bad', message: `the guest sent an unknown request ${JSON.stringify(String(raw.op).slice(0, 40))}` };
  const req = toolRequest(raw);
  if (typeof req === 'string') return { op: 'bad', message: req };
  return { op: 'call', req };
}

const MB = (n: number) => `${(n / (1024 * 1024)).toFixed(n < 1024 * 1024 ? 3 : 1)} MB`;

/**
 * Why `text` is too big to hand to the main thread (bytes over `maxBytes`, nesting over
 * MAX_JSON_DEPTH, keys over MAX_REQUEST_KEYS), or undefined. One pass over the characters,
 * no allocation: cheap for the small requests of the hot path.
 */
export function requestTooBig(text: string, maxBytes: number): string | undefined {
  if (text.length > maxBytes) return `the request is ${MB(text.length)} or more, over this session's limit of ${MB(maxBytes)} (limits.maxCallBytes)`;
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return `the request is nested deeper than ${MAX_JSON_DEPTH} levels`;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x3a && ++keys > MAX_REQUEST_KEYS) return `the request has more than ${MAX_REQUEST_KEYS} object keys`;
  }
  // Only now the exact UTF-8 size (up to 3 bytes per UTF-16 unit), for the rare long text.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > maxBytes) return `the request is ${MB(bytes)}, over this session's limit of ${MB(maxBytes)} (limits.maxCallBytes)`;
  }
  return undefined;
}

/**
 * The worker's check of a request before the main thread sees it: undefined to pass it on,
 * or the reply that refuses it. A refused `wait` fails each call it starts (so the guest's
 * event loop hands every one its error); anything else gets one ToolArgumentError.
 */
export function checkRequest(text: string, maxBytes: number): string | undefined {
  const why = requestTooBig(text, maxBytes);
  if (why === undefined) return undefined;
  const error = { kind: 'argument', type: 'ToolArgumentError', message: `${why}; nothing was sent to the tool` };
  let raw: unknown;
  try {
    raw = JSON.parse(text); // on the worker: its CPU is the session's own
  } catch {
    /* not JSON either */
  }
  if (isObject(raw) && raw.op === 'wait' && Array.isArray(raw.start)) {
    const ids = raw.start.map((s) => (isObject(s) ? s.id : undefined)).filter((id): id is number => typeof id === 'number' && Number.isSafeInteger(id));
    return JSON.stringify({ done: ids.map((id) => ({ id, ok: false, error })) });
  }
  return JSON.stringify({ ok: false, error });
}

/**
 * Why a value is too big to send to the guest (its JSON over `maxBytes`, nesting over
 * MAX_JSON_DEPTH or a cycle), or undefined. Stops as soon as it knows, so a 500 MB result
 * costs a walk of 16 MB, not a 500 MB string; iterative, so depth cannot overflow the stack.
 */
export function valueTooBig(value: unknown, maxBytes: number): string | undefined {
  let bytes = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') bytes += v.length + 2;
    else if (typeof v === 'object' && v !== null) {
      if (depth > MAX_JSON_DEPTH) return `it is nested deeper than ${MAX_JSON_DEPTH} levels (or holds a cycle)`;
      if (Array.isArray(v)) {
        bytes += 1 + v.length;
        for (const item of v) stack.push([item, depth + 1]);
      } else {
        for (const k in v) {
          bytes += k.length + 4;
          stack.push([(v as Record<string, unknown>)[k], depth + 1]);
        }
        bytes += 2;
      }
    } else bytes += 5;
    if (bytes > maxBytes) return `it is more than ${MB(maxBytes)} of JSON, over this session's limit (limits.maxResultBytes)`;
  }
  return undefined;
}

const bigintAsNumber = (_k: string, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v);

/** JSON for the guest; a value JSON cannot carry (a cycle, say) fails the call, not the session. */
export function encodeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    /* a BigInt, or worse: retry with the replacer (slow on large results, so not the first try) */
  }
  try {
    return JSON.stringify(value, bigintAsNumber);
  } catch (err) {
    return JSON.stringify({ ok: false, error: { kind: 'tool', type: 'TypeError', message: `the handler's result is not JSON: ${(err as Error).message}` } });
  }
}

export const badRequestReply = (message: string): string => JSON.stringify({ ok: false, error: { kind: 'tool', type: 'ProtocolError', message } });

/**
 * A host for a guest on the calling thread, with synchronous dispatch: the calls a
 * `wait` starts run at once, and it hands them back finished. Used by `tic run` without handlers
 * and by tests; sessions (session.ts) run handlers asynchronously from a worker.
 */
export function syncHostCalls(dispatch: (req: ToolRequest) => CallReply): (request: string) => string {
  return (text) => {
    const r = parseRequest(text);
    switch (r.op) {
      case 'bad':
        return badRequestReply(r.message);
      case 'wait':
        return encodeJson({ done: r.start.map((s) => ({ id: s.id, ...dispatch(s.req) })) });
      case 'call':
        return encodeJson(dispatch(r.req));
    }
  };
}
