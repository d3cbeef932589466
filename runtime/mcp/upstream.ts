// One MCP server the host talks to, kept usable: started with a time limit on its start
// and on listing its tools, each call with its own time limit, its stderr in a log file
// (never in a result the model reads), and restarted by the next call after it stops.
// Every failure is an McpError whose message names the server and what it was doing.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { type ServerSpec, describeServer } from './config.js';

// The MCP SDK (about 190 modules with zod) is loaded by the first start of a server, not
// by `import 'tooliscode'`: a host that only runs sessions never pays for it.
type Sdk = {
  Client: typeof import('@modelcontextprotocol/sdk/client/index.js').Client;
  SSEClientTransport: typeof import('@modelcontextprotocol/sdk/client/sse.js').SSEClientTransport;
  StdioClientTransport: typeof import('@modelcontextprotocol/sdk/client/stdio.js').StdioClientTransport;
  StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPClientTransport;
  StreamableHTTPError: typeof import('@modelcontextprotocol/sdk/client/streamableHttp.js').StreamableHTTPError;
  ErrorCode: typeof import('@modelcontextprotocol/sdk/types.js').ErrorCode;
  ProtocolError: typeof import('@modelcontextprotocol/sdk/types.js').McpError;
};
let sdk: Sdk | undefined;

async function loadSdk(): Promise<Sdk> {
  if (sdk) return sdk;
  const [client, sse, stdio, http, types] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/sse.js'),
    import('@modelcontextprotocol/sdk/client/stdio.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]);
  return (sdk = {
    Client: client.Client,
    SSEClientTransport: sse.SSEClientTransport,
    StdioClientTransport: stdio.StdioClientTransport,
    StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
    StreamableHTTPError: http.StreamableHTTPError,
    ErrorCode: types.ErrorCode,
    ProtocolError: types.McpError,
  });
}

/** The SDK once a start has loaded it (every client, and so every error of one, comes after). */
function loaded(): Sdk {
  if (!sdk) throw new Error('the MCP SDK is not loaded yet');
  return sdk;
}

const isProtocolError = (err: unknown, code: 'RequestTimeout' | 'ConnectionClosed') =>
  sdk !== undefined && err instanceof sdk.ProtocolError && err.code === sdk.ErrorCode[code];

/** A failure of an MCP server, with a message that names it and what it was doing. */
export class McpError extends Error {
  override name = 'McpError';
  constructor(
    message: string,
    /** The last lines the server wrote to stderr, for a person (never for the model). */
    readonly stderrTail?: string,
  ) {
    super(message);
  }
}

export interface UpstreamOptions {
  /** Starting the server and its `initialize` handshake (default 30 000 ms). */
  startTimeoutMs?: number;
  /** Listing its tools, all pages (default 30 000 ms). */
  listTimeoutMs?: number;
  /** One `tools/call` (default 60 000 ms); on expiry the call is cancelled and fails. */
  callTimeoutMs?: number;
  /** Restarts after the server stopped, per process (default 3); then it is unavailable. */
  maxRestarts?: number;
  /** Folder of the servers' stderr logs, one `NAME.log` each; default: stderr is dropped. */
  logDir?: string;
  /** 'inherit' passes the server's stderr through instead (the old `tic run --mcp` behaviour). */
  stderr?: 'log' | 'inherit' | 'ignore';
}

export type UpstreamState = 'idle' | 'starting' | 'ready' | 'stopped' | 'failed' | 'unavailable' | 'closed';

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]);
}

const isTimeout = (err: unknown) => isProtocolError(err, 'RequestTimeout');
/** The connection is gone (a stdio server exited; an HTTP server refused or forgot the session). */
const isConnectionLoss = (err: unknown) =>
  isProtocolError(err, 'ConnectionClosed') ||
  (sdk !== undefined && err instanceof sdk.StreamableHTTPError) ||
  (err instanceof TypeError && /fetch failed/.test(err.message));

export class Upstream {
  state: UpstreamState = 'idle';
  /** Its tools, as listed by the last successful start. */
  tools: Tool[] = [];
  serverInfo: { name: string; version: string } | undefined;
  /** Why it is not running (state stopped, failed or unavailable). */
  reason: string | undefined;
  restarts = 0;
  private client: Client | undefined;
  private starting: Promise<void> | undefined;
  private log: WriteStream | undefined;
  private readonly stderrLines: string[] = [];
  readonly logFile: string | undefined;
  private readonly o: Required<Omit<UpstreamOptions, 'logDir'>>;

  constructor(
    /** The name it is known by in messages (its namespace in the SDK, or its config key). */
    public label: string,
    readonly spec: ServerSpec,
    options: UpstreamOptions = {},
  ) {
    this.o = {
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      listTimeoutMs: options.listTimeoutMs ?? 30_000,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
      maxRestarts: options.maxRestarts ?? 3,
      stderr: options.stderr ?? (options.logDir ? 'log' : 'ignore'),
    };
    if (this.o.stderr === 'log' && options.logDir) this.logFile = join(options.logDir, `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}.log`);
  }

  /** `MCP server "kg"`, for the start of a message. */
  get title(): string {
    return `MCP server ${JSON.stringify(this.label)}`;
  }

  private logLine(line: string): void {
    this.log?.write(`[tooliscode ${new Date().toISOString()}] ${line}\n`);
  }

  private makeTransport(): Transport {
    const s = this.spec;
    const { SSEClientTransport, StdioClientTransport, StreamableHTTPClientTransport } = loaded();
    if (s.transport === 'stdio') {
      const t = new StdioClientTransport({
        command: s.command,
        args: s.args,
        ...(s.env ? { env: s.env } : {}),
        ...(s.cwd ? { cwd: s.cwd } : {}),
        stderr: this.o.stderr === 'inherit' ? 'inherit' : this.o.stderr === 'ignore' && !this.logFile ? 'ignore' : 'pipe',
      });
      t.stderr?.on('data', (chunk: Buffer) => {
        this.log?.write(chunk);
        const lines = chunk.toString('utf8').split('\n').filter((l) => l.trim() && !/^\s+at /.test(l));
        this.stderrLines.push(...lines);
        this.stderrLines.splice(0, Math.max(0, this.stderrLines.length - 50));
      });
      return t;
    }
    const requestInit = s.headers ? { headers: s.headers } : undefined;
    const url = new URL(s.url);
    return s.transport === 'sse' ? new SSEClientTransport(url, requestInit ? { requestInit } : {}) : new StreamableHTTPClientTransport(url, requestInit ? { requestInit } : {});
  }

  /** The lines of its stderr that say what went wrong (else its last lines), for a person. */
  private stderrTail(): string | undefined {
    const telling = this.stderrLines.filter((l) => /\b(error|fail\w*|cannot|can't|denied|not found|usage|invalid|missing|refused)\b/i.test(l));
    const tail = (telling.length ? telling : this.stderrLines).slice(-3);
    return tail.length ? tail.join('\n') : undefined;
  }

  private failure(message: string): McpError {
    const where = this.logFile ? ` (its log: ${this.logFile})` : '';
    return new McpError(`${this.title} ${message}${where}`, this.stderrTail());
  }

  /** Starts the server and lists its tools; throws McpError. Concurrent callers share one start. */
  start(): Promise<void> {
    this.starting ??= this.startNow().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startNow(): Promise<void> {
    this.state = 'starting';
    this.stderrLines.length = 0;
    if (this.logFile && !this.log) {
      mkdirSync(join(this.logFile, '..'), { recursive: true });
      this.log = createWriteStream(this.logFile, { flags: 'a' });
      this.log.on('error', () => {
        this.log = undefined; // a log that cannot be written is not worth failing a call
      });
    }
    this.logLine(`starting ${describeServer(this.spec)}`);
    const { Client } = await loadSdk();
    const client = new Client({ name: 'tooliscode', version: '1' });
    client.onclose = () => this.onClosed(client);
    client.onerror = (err) => this.logLine(`transport error: ${err.message}`);
    this.client = client;
    const doing = this.spec.transport === 'stdio' ? 'starting' : 'connecting';
    try {
      await withTimeout(client.connect(this.makeTransport(), { timeout: this.o.startTimeoutMs }), this.o.startTimeoutMs + 1000, () =>
        this.failure(`did not finish starting within ${seconds(this.o.startTimeoutMs)}`),
      );
    } catch (err) {
      throw await this.startFailed(client, err instanceof McpError ? err : this.failure(`failed while ${doing}: ${this.explain(err)}`));
    }
    try {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      const deadline = Date.now() + this.o.listTimeoutMs;
      do {
        const page = await client.listTools(cursor ? { cursor } : {}, { timeout: Math.max(1, deadline - Date.now()) });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      this.tools = tools;
    } catch (err) {
      const message = isTimeout(err) ? `did not list its tools within ${seconds(this.o.listTimeoutMs)}` : `failed while listing its tools: ${this.explain(err)}`;
      throw await this.startFailed(client, this.failure(message));
    }
    const info = client.getServerVersion();
    this.serverInfo = info ? { name: info.name, version: info.version } : undefined;
    this.state = 'ready';
    this.reason = undefined;
    this.logLine(`ready: ${this.tools.length} tools`);
  }

  private async startFailed(client: Client, err: McpError): Promise<McpError> {
    this.client = undefined;
    this.state = 'failed';
    this.reason = err.message;
    this.logLine(err.message);
    await client.close().catch(() => {});
    return err;
  }

  private onClosed(client: Client): void {
    if (this.client !== client) return; // an old connection, or one being given up
    this.client = undefined;
    if (this.state === 'closed') return;
    this.state = 'stopped';
    this.reason = this.spec.transport === 'stdio' ? 'its process exited' : 'the connection closed';
    this.logLine(`stopped: ${this.reason}`);
  }

  private explain(err: unknown): string {
    if (isProtocolError(err, 'ConnectionClosed')) {
      return this.spec.transport === 'stdio' ? 'the process exited' : 'the connection closed';
    }
    const e = err as NodeJS.ErrnoException & { cause?: { code?: string; message?: string } };
    if (e?.code === 'ENOENT' && this.spec.transport === 'stdio') return `command not found: ${this.spec.command}`;
    const cause = e?.cause?.code ?? e?.cause?.message;
    return `${e?.message ?? String(err)}${cause && !String(e?.message).includes(cause) ? ` (${cause})` : ''}`;
  }

  /** A running client: starts the server if it never ran, restarts it once per stop. */
  private async running(doing: string): Promise<Client> {
    if (this.state === 'starting') await this.start().catch(() => {});
    if (this.state === 'ready' && this.client) return this.client;
    if (this.state === 'closed') throw new McpError(`${this.title} was shut down`);
    if (this.state === 'unavailable') throw new McpError(`${this.title} is unavailable: ${this.reason}`);
    if (this.state !== 'idle') {
      // stopped (it ran, then its process exited) or failed (its first start failed): one more try.
      if (this.restarts >= this.o.maxRestarts) {
        this.state = 'unavailable';
        this.reason = `it stopped ${this.restarts + 1} times (${this.reason})`;
        throw new McpError(`${this.title} is unavailable: ${this.reason}`);
      }
      this.restarts++;
      const why = this.reason;
      this.logLine(`restarting for ${doing} (${why})`);
      try {
        await this.start();
      } catch (err) {
        this.state = 'unavailable';
        this.reason = `it stopped (${why}) and could not be restarted: ${(err as Error).message.replace(`${this.title} `, '')}`;
        throw new McpError(`${this.title} is unavailable: ${this.reason}`);
      }
      return this.client!;
    }
    await this.start();
    return this.client!;
  }

  /** Calls one tool; resolves with the server's CallToolResult or throws McpError. */
  async call(tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const doing = `tools/call ${JSON.stringify(tool)}`;
    const client = await this.running(doing);
    try {
      return (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: this.o.callTimeoutMs })) as CallToolResult;
    } catch (err) {
      if (isTimeout(err)) throw new McpError(`${this.title} did not answer ${doing} within ${seconds(this.o.callTimeoutMs)}; the call was cancelled`);
      if (isConnectionLoss(err)) {
        // The server went away during the call. Make sure the next call starts a new one.
        if (this.client === client) {
          this.client = undefined;
          this.state = 'stopped';
          this.reason = this.spec.transport === 'stdio' ? 'its process exited' : `the connection failed: ${this.explain(err)}`;
          void client.close().catch(() => {});
        }
        throw new McpError(`${this.title} stopped during ${doing} (${this.reason}); the next call will restart it`);
      }
      throw new McpError(`${this.title} failed ${doing}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.state = 'closed';
    this.client = undefined;
    await client?.close().catch(() => {});
    this.logLine('shut down');
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }
}
