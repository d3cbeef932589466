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

function toolRequest(raw: Record<string, unknown>): ToolRequest | undefined {
  if (typeof raw.tool !== 'string') return undefined;
  const args = typeof raw.args === 'object' && raw.args !== null && !Array.isArray(raw.args) ? (raw.args as Record<string, unknown>) : {};
  return { tool: raw.tool, args, ...(typeof raw.namespace === 'string' ? { namespace: raw.namespace } : {}) };
}

export function parseRequest(text: string): GuestRequest {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { op: 'bad', message: 'the guest sent a request that is not JSON' };
  }
  if (raw.op === 'wait') {
    const start: { id: number; req: ToolRequest }[] = [];
    for (const s of Array.isArray(raw.start) ? (raw.start as Record<string, unknown>[]) : []) {
      const req = typeof s === 'object' && s !== null ? toolRequest(s) : undefined;
      if (!req) return { op: 'bad', message: 'the guest started a call without a tool name' };
      start.push({ id: Number(s.id), req });
    }
    return { op: 'wait', start, timeoutMs: typeof raw.timeout === 'number' ? raw.timeout * 1000 : null };
  }
  const req = toolRequest(raw);
  if (!req) return { op: 'bad', message: 'the guest sent a request without a tool name' };
  return { op: 'call', req };
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
