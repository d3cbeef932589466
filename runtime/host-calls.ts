// The request protocol between the SDK in the guest (`_tic.call`, `_tic.aio`) and the
// host, over the one `tic.call` import (JSON in, JSON out):
//
//   {"op":"call",  "tool", "args", "namespace"?}          -> a CallReply
//   {"op":"start", "id", "tool", "args", "namespace"?}     -> {"ok":true}; runs in the background
//   {"op":"wait",  "timeout": seconds | null}              -> {"done":[{"id", ...CallReply}]}
//                                                            (or {"timeout":true,"message"})
//
// `call` is a blocking call. `start` + `wait` are how the guest's event loop runs several
// `aio` calls at once: it starts each, then waits for whichever finish first.

import type { CallReply } from './tools.js';

export interface ToolRequest {
  tool: string;
  namespace?: string;
  args: Record<string, unknown>;
}

export type GuestRequest =
  | { op: 'call'; req: ToolRequest }
  | { op: 'start'; id: number; req: ToolRequest }
  | { op: 'wait'; timeoutMs: number | null }
  | { op: 'bad'; message: string };

export function parseRequest(text: string): GuestRequest {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { op: 'bad', message: 'the guest sent a request that is not JSON' };
  }
  if (raw.op === 'wait') return { op: 'wait', timeoutMs: typeof raw.timeout === 'number' ? raw.timeout * 1000 : null };
  if (typeof raw.tool !== 'string') return { op: 'bad', message: 'the guest sent a request without a tool name' };
  const args = typeof raw.args === 'object' && raw.args !== null && !Array.isArray(raw.args) ? (raw.args as Record<string, unknown>) : {};
  const req: ToolRequest = { tool: raw.tool, args, ...(typeof raw.namespace === 'string' ? { namespace: raw.namespace } : {}) };
  if (raw.op === 'start') return { op: 'start', id: Number(raw.id), req };
  return { op: 'call', req };
}

/** JSON for the guest; a value JSON cannot carry (a cycle, say) fails the call, not the session. */
export function encodeJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
  } catch (err) {
    return JSON.stringify({ ok: false, error: { kind: 'tool', type: 'TypeError', message: `the handler's result is not JSON: ${(err as Error).message}` } });
  }
}

export const badRequestReply = (message: string): string => JSON.stringify({ ok: false, error: { kind: 'tool', type: 'ProtocolError', message } });

/**
 * A host for a guest on the calling thread, with synchronous dispatch: `start` runs the
 * call at once and `wait` hands back what finished. Used by `tic run` without handlers
 * and by tests; sessions (session.ts) run handlers asynchronously from a worker.
 */
export function syncHostCalls(dispatch: (req: ToolRequest) => CallReply): (request: string) => string {
  const done: ({ id: number } & CallReply)[] = [];
  return (text) => {
    const r = parseRequest(text);
    switch (r.op) {
      case 'bad':
        return badRequestReply(r.message);
      case 'wait':
        return encodeJson({ done: done.splice(0) });
      case 'call':
        return encodeJson(dispatch(r.req));
      case 'start':
        done.push({ id: r.id, ...dispatch(r.req) });
        return '{"ok":true}';
    }
  };
}
