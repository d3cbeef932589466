// `tic serve --http PORT`: Streamable HTTP at /mcp. Each `initialize` makes a session
// (an Mcp-Session-Id, its own MCP server object and transport, its own code session);
// later requests are routed by that header. A DELETE, a closed transport or the idle
// timeout ends the session; at `maxSessions` a new one is refused until one ends.
//
// The door, checked on every request before anything else:
// - Origin: a browser's request is refused unless its Origin is the loopback or allowed
//   (`allowOrigins`), so no web page can drive the server (the MCP transport spec's MUST).
// - Host: on the loopback it must name the loopback (no DNS rebinding); on another address
//   it must be one of `allowHosts` when given.
// - A bearer token, required to bind anywhere but the loopback, compared in constant time.
// A session's guest starts with its first cell: an initialized, idle session holds no worker.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { guardToolCalls } from './mcp-server.js';
import type { CodeSession, Sessions } from './sessions.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Who may connect over HTTP. */
export interface HttpDoor {
  /** Origins (`https://app.example`) allowed besides the loopback's; `*` allows any. */
  allowOrigins?: string[];
  /** Host header names accepted when bound to a non-loopback address (default: any, with a warning). */
  allowHosts?: string[];
  /** Bearer token every request must carry (`Authorization: Bearer ...`); required unless bound to the loopback. */
  token?: string;
}

export interface HttpFrontOptions extends HttpDoor {
  port: number;
  host: string;
  maxSessions: number;
  sessions: Sessions;
  /** A new MCP server object for one connection. */
  createServer: (session: () => CodeSession) => Server;
  log: (line: string) => void;
}

export interface HttpFront {
  url: string;
  /** Ends one session's connection (its transport), e.g. when the session expired. */
  disconnect(id: string): Promise<void>;
  close(): Promise<void>;
}

function jsonError(res: ServerResponse, status: number, message: string, code = -32000): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw Object.assign(new Error(`request body over ${MAX_BODY_BYTES} bytes`), { status: 413 });
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('Parse error: the body is not JSON'), { status: 400, code: -32700 });
  }
}

const hostnameOf = (host: string | undefined) => (host ?? '').replace(/:\d+$/, '').toLowerCase();

export class HttpDoorError extends Error {}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Why this request may not come in (status and message), or undefined. */
function refusal(req: IncomingMessage, o: HttpFrontOptions, loopbackBind: boolean, token: Buffer | undefined): [number, string] | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let allowed = o.allowOrigins?.includes('*') || o.allowOrigins?.includes(origin);
    if (!allowed && origin !== 'null') {
      try {
        allowed = LOOPBACK.has(new URL(origin).hostname.toLowerCase());
      } catch {
        allowed = false;
      }
    }
    if (!allowed) return [403, `forbidden: Origin ${JSON.stringify(origin)} is not allowed (tic serve --allow-origin)`];
  }
  const host = hostnameOf(req.headers.host);
  if (loopbackBind ? !LOOPBACK.has(host) : o.allowHosts !== undefined && !o.allowHosts.map((h) => h.toLowerCase()).includes(host)) {
    return [403, `forbidden: Host ${JSON.stringify(req.headers.host ?? '')} is not ${loopbackBind ? 'the loopback' : 'one of --allow-host'}`];
  }
  if (token) {
    const auth = req.headers.authorization ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? '';
    if (!timingSafeEqual(digest(given), token)) return [401, 'unauthorized: send Authorization: Bearer <token> (tic serve --token)'];
  }
  return undefined;
}

/** Refuses a door that would let anyone who reaches the port run code (checked before anything starts). */
export function checkHttpDoor(o: HttpDoor & { host: string }): void {
  if (!LOOPBACK.has(o.host) && !o.token) {
    throw new HttpDoorError(`binding to ${o.host} (not the loopback) needs a bearer token: --token or TIC_SERVE_TOKEN; anyone who can reach the port could otherwise run code`);
  }
  if (o.token !== undefined && o.token.length < 16) throw new HttpDoorError('the bearer token is too short: use at least 16 characters (e.g. openssl rand -hex 32)');
}

export async function startHttpFront(o: HttpFrontOptions): Promise<HttpFront> {
  const connections = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();
  const loopbackBind = LOOPBACK.has(o.host);
  checkHttpDoor(o);
  if (!loopbackBind && o.allowHosts === undefined) o.log(`bound to ${o.host} with no --allow-host: any Host header is accepted (the token still is required)`);
  const token = o.token !== undefined ? digest(o.token) : undefined;

  const drop = async (id: string, forget = false) => {
    const c = connections.get(id);
    if (!c && !forget) return;
    connections.delete(id);
    await o.sessions.close(id, { forget });
    await c?.server.close().catch(() => {});
  };

  /**
   * A session this process did not initialize but the store holds (made by another
   * `tic serve` on the same store, or by this one before a restart): each request gets a
   * transport of its own without session checks (the id is ours to route by), bound to
   * the session; the session restores from the store on its next cell.
   */
  const adopted = async (req: IncomingMessage, res: ServerResponse, body: unknown, id: string) => {
    if (req.method === 'DELETE') {
      await o.sessions.close(id, { forget: true });
      o.log(`session ${id} closed by the client`);
      res.writeHead(200).end();
      return;
    }
    if (!o.sessions.get(id) && o.sessions.size >= o.maxSessions) return jsonError(res, 503, `the server has its maximum of ${o.maxSessions} sessions open; try again later`);
    const session = o.sessions.get(id) ?? o.sessions.open(id);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = o.createServer(() => session);
    await server.connect(transport);
    guardToolCalls(transport);
    res.once('close', () => void server.close().catch(() => {}));
    await transport.handleRequest(req, res, body);
  };

  const open = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    let session: CodeSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        session = o.sessions.open(id);
        connections.set(id, { transport, server });
        o.log(`session ${id} opened (${o.sessions.size} open)`);
      },
      onsessionclosed: (id) => {
        o.log(`session ${id} closed by the client`);
        void drop(id, true);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) void drop(transport.sessionId);
    };
    const server = o.createServer(() => {
      if (!session) throw new Error('no session: initialize first');
      return session;
    });
    await server.connect(transport);
    guardToolCalls(transport);
    await transport.handleRequest(req, res, body);
  };

  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/mcp') return jsonError(res, 404, `not found: the MCP endpoint is /mcp`);
      const refused = refusal(req, o, loopbackBind, token);
      if (refused) return jsonError(res, refused[0], refused[1]);
      const id = req.headers['mcp-session-id'];
      const sessionId = Array.isArray(id) ? id[0] : id;
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      if (Array.isArray(body) && body.length === 0) return jsonError(res, 400, 'Invalid Request: an empty batch', -32600);
      if (sessionId === undefined) {
        if (req.method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.some(isInitializeRequest)))) {
          if (o.sessions.size >= o.maxSessions) {
            o.log(`refused a session: ${o.sessions.size} of ${o.maxSessions} open`);
            return jsonError(res, 503, `the server has its maximum of ${o.maxSessions} sessions open; end one (DELETE /mcp) or try again later`);
          }
          return open(req, res, body);
        }
        return jsonError(res, 400, 'Bad Request: no Mcp-Session-Id header (send initialize first)');
      }
      const c = connections.get(sessionId);
      if (!c && (await o.sessions.stored(sessionId))) return adopted(req, res, body, sessionId);
      // Ended elsewhere (a DELETE on another process): the local copy goes too.
      if (!c && o.sessions.get(sessionId)) await o.sessions.close(sessionId);
      if (!c) return jsonError(res, 404, 'Session not found (it ended or expired): initialize a new one', -32001);
      await c.transport.handleRequest(req, res, body);
    })().catch((err: Error & { status?: number; code?: unknown }) => {
      o.log(`http: ${err.message}`);
      // Only our own numeric codes go out: a Node errno name ("EMFILE") is no JSON-RPC code.
      jsonError(res, err.status ?? 500, err.status ? err.message : 'Internal server error', typeof err.code === 'number' ? err.code : -32603);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/mcp`,
    disconnect: async (id) => {
      const c = connections.get(id);
      if (c) await c.transport.close();
      await drop(id);
    },
    close: async () => {
      await Promise.all([...connections.keys()].map((id) => drop(id)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
