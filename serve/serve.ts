// `tic serve` as a library function: the user's MCP servers in, one MCP server out whose
// single tool `run_python` runs cells against an SDK of all their tools. The upstream
// servers start once per process and serve every session; the SDK is built on start
// (a second start with the same tools reuses the build) or taken from `dir`.

import { createHash } from 'node:crypto';
import type { CheckMode } from '../runtime/check.js';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Manifest } from '../compiler/build.js';
import type { PromptStyle } from '../compiler/prompt-styles.js';
import { buildGuest, cacheRoot } from '../guest/build/index.js';
import { pruneAfterBuild, touchCacheEntry } from '../runtime/cache-dir.js';
import { type Guest, loadGuest } from '../runtime/guest.js';
import { packageVersion } from '../runtime/package-root.js';
import type { ServerSpec } from '../runtime/mcp/config.js';
import { McpHub, namespacesOfBuild } from '../runtime/mcp/hub.js';
import type { UpstreamOptions } from '../runtime/mcp/upstream.js';
import type { Limits } from '../runtime/session.js';
import { type HttpDoor, type HttpFront, checkHttpDoor, startHttpFront } from './http.js';
import { createRunPythonServer, guardToolCalls } from './mcp-server.js';
import { MAX_STDIO_MESSAGE_BYTES, boundedLines } from './stdio-limit.js';
import { type SessionStore, openStore } from '../runtime/store.js';
import { type CodeSession, Sessions } from './sessions.js';

export interface ServeOptions {
  /** The MCP servers whose tools the SDK offers (from a config file or the CLI). */
  servers: ServerSpec[];
  /** The output folder of an earlier `tic build` of these servers; built on start when omitted. */
  dir?: string;
  /**
   * Streamable HTTP at `/mcp` on this port (0: any free port); stdio (this process's
   * stdin/stdout) when omitted. See HttpDoor for who may connect.
   */
  http?: { port: number; host?: string } & HttpDoor;
  /** Sessions open at once over HTTP (default 64): an `initialize` beyond it is refused with 503 until one ends. */
  maxSessions?: number;
  /**
   * Where sessions are checkpointed after every cell and hibernate when idle: a folder, a
   * `redis://host:port` URL, or a SessionStore. Over HTTP, several `tic serve` processes
   * on one store serve the same sessions (any process continues any session by its
   * Mcp-Session-Id), and a restart keeps them.
   */
  store?: string | SessionStore;
  /** With a store: how long an idle session keeps its worker (default 30 s). */
  hibernateAfterMs?: number;
  /** Limits of each session (timeoutMs, memoryMb, ...). */
  limits?: Limits;
  /** The pre-flight check of each cell's SDK calls: `block` (default), `warn` or `off` (runtime/check.ts). */
  check?: CheckMode;
  /** A session idle this long is ended (default 15 min). */
  idleTimeoutMs?: number;
  /** Each session gets a folder `<workspaceRoot>/<session id>` mirrored at /workspace. */
  workspaceRoot?: string;
  /** Timeouts of the upstream servers, and where their stderr goes (default: `<cache>/logs/mcp/`). */
  upstream?: UpstreamOptions;
  /** For the build on start. */
  promptStyle?: PromptStyle;
  /** Progress and problems, one line each (never stdout: over stdio that is the protocol). */
  log?: (line: string) => void;
}

export interface RunningServe {
  /** `http://127.0.0.1:PORT/mcp` over HTTP. */
  url?: string;
  /** The build the sessions run. */
  dir: string;
  guest: Guest;
  hub: McpHub;
  sessions: Sessions;
  /** Where the upstream servers' stderr is written. */
  logDir: string;
  /** Resolves when the server stops (stdin closed over stdio, or close()). */
  closed: Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_SESSIONS = 64;

/** The build of these tool lists under the cache: made once, reused by every later start. */
export async function buildForServers(hub: McpHub, o: Pick<ServeOptions, 'promptStyle'>, log: (l: string) => void): Promise<string> {
  const lists = hub.toolLists();
  if (lists.length === 0) throw new Error('no MCP server started, so there are no tools to serve');
  const base = await buildGuest({ log: () => {} });
  const key = createHash('sha256')
    .update(JSON.stringify([packageVersion(), base.info.key, o.promptStyle ?? 'compact', lists.map((l) => [l.namespace, l.list, l.server])]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheRoot(), 'serve', key);
  if (existsSync(join(dir, 'manifest.json'))) {
    touchCacheEntry(dir);
    log(`using the build in ${dir}`);
    return dir;
  }
  // Built next to its final place and renamed, so two processes starting at once never see half a build.
  const temp = `${dir}.tmp-${process.pid}`;
  const { build } = await import('../compiler/build.js'); // only when building: it loads the TypeScript emitter
  try {
    await build({
      inputs: lists.map((l) => ({ label: l.label, list: l.list, namespace: l.namespace, server: l.server })),
      outDir: temp,
      ...(o.promptStyle ? { promptStyle: o.promptStyle } : {}),
      log,
    });
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another process was first
  }
  pruneAfterBuild(dir, log);
  return dir;
}

export async function serve(o: ServeOptions): Promise<RunningServe> {
  const log = o.log ?? ((line: string) => process.stderr.write(`tic serve: ${line}\n`));
  if (o.http) checkHttpDoor({ ...o.http, host: o.http.host ?? '127.0.0.1' });
  const logDir = o.upstream?.logDir ?? join(cacheRoot(), 'logs', 'mcp');
  const manifest = o.dir ? (JSON.parse(readFileSync(join(o.dir, 'manifest.json'), 'utf8')) as Manifest) : undefined;

  // Over stdio the client gets its `initialize` answered at once; listing the tool and
  // calling it wait until the servers are up and the SDK is built (a first build takes a while).
  let stdioSession: CodeSession | undefined;
  let description: string | undefined;
  let setReady!: () => void;
  let setFailed!: (err: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => ((setReady = resolve), (setFailed = reject)));
  ready.catch(() => {});
  let stdio: { server: Server; transport: StdioServerTransport } | undefined;
  if (!o.http) {
    const server = createRunPythonServer(
      () => ready.then(() => stdioSession!),
      () => ready.then(() => description!),
    );
    // A line too long for the SDK is dropped before it and answered here, with its id.
    const stdin = boundedLines(process.stdin, MAX_STDIO_MESSAGE_BYTES, (id, bytes) => {
      const message = `the message is ${(bytes / 1048576).toFixed(1)} MB, over the ${MAX_STDIO_MESSAGE_BYTES / 1048576} MB one message over stdio may have; send smaller cells, and put data in files in /workspace`;
      log(`refused a message of ${bytes} bytes`);
      void transport.send({ jsonrpc: '2.0', id: id ?? (null as unknown as string), error: { code: -32600, message } }).catch(() => {});
    });
    const transport = new StdioServerTransport(stdin, process.stdout);
    stdio = { server, transport };
    await server.connect(transport);
    guardToolCalls(transport);
    // The client closing our stdin ends the server, even while it is still starting.
    process.stdin.once('end', () => void ready.then(() => close()));
  }

  let hub: McpHub | undefined;
  let guest: Guest;
  let dir: string;
  try {
    const started = await McpHub.start(o.servers, {
      ...o.upstream,
      logDir,
      ...(manifest ? { namespaceOf: namespacesOfBuild(manifest.inputs) } : {}),
    });
    hub = started.hub;
    for (const f of started.failures) log(`${f.message}; serving without it until a call restarts it`);
    log(`upstream servers: ${hub.servers.map((s) => `${s.namespace} (${s.upstream.state === 'ready' ? `${s.upstream.tools.length} tools` : 'not started'})`).join(', ')}; their stderr goes to ${logDir}`);
    dir = o.dir ?? (await buildForServers(hub, o, log));
    guest = await loadGuest(dir, { warm: o.http ? 1 : 0 });
    description = readFileSync(join(dir, 'prompt.md'), 'utf8');
  } catch (err) {
    setFailed(err);
    await hub?.close();
    await stdio?.server.close();
    throw err;
  }
  const missing = [...new Set(guest.tools.tools.map((t) => t.namespace).filter((ns) => ns !== undefined && !hub!.get(ns)))];
  if (missing.length) log(`no server given for ${missing.map((n) => JSON.stringify(n)).join(', ')} of the build; those calls will fail`);

  let front: HttpFront | undefined;
  let store: SessionStore | undefined;
  try {
    store = o.store === undefined ? undefined : typeof o.store === 'string' ? await openStore(o.store) : o.store;
  } catch (err) {
    await hub.close();
    await guest.close();
    throw err;
  }
  if (store) log(`sessions are checkpointed into ${store.where}`);
  const sessions = new Sessions({
    ...(store ? { store } : {}),
    ...(o.hibernateAfterMs !== undefined ? { hibernateAfterMs: o.hibernateAfterMs } : {}),
    guest,
    handlers: hub.handlers(guest.tools.tools),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.check ? { check: o.check } : {}),
    ...(o.workspaceRoot !== undefined ? { workspaceRoot: o.workspaceRoot } : {}),
    ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
    ...(o.http ? { onExpired: (id: string) => void front?.disconnect(id) } : {}),
    log,
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await front?.close();
      await stdio?.server.close().catch(() => {});
      await sessions.closeAll();
      await guest.close();
      await hub!.close();
      if (store && typeof o.store === 'string') await store.close();
      resolveClosed();
    })());

  if (o.http) {
    const text = description;
    front = await startHttpFront({
      ...o.http,
      host: o.http.host ?? '127.0.0.1',
      maxSessions: o.maxSessions ?? DEFAULT_MAX_SESSIONS,
      sessions,
      createServer: (s) => createRunPythonServer(s, () => text),
      log,
    });
    log(`listening on ${front.url}`);
  } else {
    // Over stdio the process is the session.
    stdioSession = sessions.open();
    void stdioSession.warm().catch((err: Error) => log(`cannot start the session: ${err.message}`));
    stdio!.server.onclose = () => void close();
    setReady();
    log('serving over stdio');
  }
  return { ...(front ? { url: front.url } : {}), dir, guest, hub, sessions, logDir, closed, close };
}
