// `tic serve --http PORT`: Streamable HTTP at /mcp. Each `initialize` makes a session
// (an Mcp-Session-Id, its own MCP server object and transport, its own code session);
// later requests are routed by that header. A DELETE, a closed transport or the idle
// timeout ends the session. Bound to 127.0.0.1 by default, where the Host header must
// name the loopback too (a web page cannot reach the server by DNS rebinding).

import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { CodeSession, Sessions } from './sessions.js';

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface HttpFrontOptions {
  port: number;
  host: string;
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

export async function startHttpFront(o: HttpFrontOptions): Promise<HttpFront> {
  const connections = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();
  const checkHost = LOOPBACK.has(o.host);

  const drop = async (id: string) => {
    const c = connections.get(id);
    if (!c) return;
    connections.delete(id);
    await o.sessions.close(id);
    await c.server.close().catch(() => {});
  };

  const open = async (req: IncomingMessage, res: ServerResponse, body: unknown) => {
    let session: CodeSession | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (id) => {
        session = o.sessions.open(id);
        connections.set(id, { transport, server });
        void session.warm().catch(() => {}); // the guest is ready by the first call
        o.log(`session ${id} opened (${o.sessions.size} open)`);
      },
      onsessionclosed: (id) => {
        o.log(`session ${id} closed by the client`);
        void drop(id);
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
    await transport.handleRequest(req, res, body);
  };

  const http: HttpServer = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/mcp') return jsonError(res, 404, `not found: the MCP endpoint is /mcp`);
      if (checkHost && !LOOPBACK.has(hostnameOf(req.headers.host))) return jsonError(res, 403, `forbidden: Host ${JSON.stringify(req.headers.host ?? '')} is not the loopback`);
      const id = req.headers['mcp-session-id'];
      const sessionId = Array.isArray(id) ? id[0] : id;
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      if (sessionId === undefined) {
        if (req.method === 'POST' && (isInitializeRequest(body) || (Array.isArray(body) && body.some(isInitializeRequest)))) return open(req, res, body);
        return jsonError(res, 400, 'Bad Request: no Mcp-Session-Id header (send initialize first)');
      }
      const c = connections.get(sessionId);
      if (!c) return jsonError(res, 404, 'Session not found (it ended or expired): initialize a new one', -32001);
      await c.transport.handleRequest(req, res, body);
    })().catch((err: Error & { status?: number; code?: number }) => {
      o.log(`http: ${err.message}`);
      jsonError(res, err.status ?? 500, err.status ? err.message : 'Internal server error', err.code ?? -32603);
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
