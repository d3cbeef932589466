// A session: one guest in its own worker thread, with the host's handlers, limits and
// workspace. Cells run one at a time; tool calls run on this thread's event loop while
// the guest waits (session-protocol.ts).

import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type ToolRequest, badRequestReply, encodeJson, parseRequest } from './host-calls.js';
import type { CellError } from './instance.js';
import { Ctl, DATA_BYTES, type FromWorker, type ToWorker, type WorkerSetup } from './session-protocol.js';
import { type CallReply, type OutputSchemaMode, type ToolSpec, ToolTable, errorReply, toReply } from './tools.js';

// `any`: each handler takes its own tool's argument type (see tools.d.ts)
export type Handler = (args: any) => unknown;
export type Handlers = Record<string, Handler>;

export interface Limits {
  /** Wall-clock time of one cell, tool calls included (default 30 000). */
  timeoutMs?: number;
  /** Linear memory of the guest (default 256): beyond it Python raises MemoryError. */
  memoryMb?: number;
  /** stdout + stderr of one cell (default 1 MiB); the rest is dropped after a marker. */
  maxOutputBytes?: number;
  /** Bytes the workspace may hold, files and folders (default 256): beyond it writes fail with ENOSPC. */
  workspaceMb?: number;
  /** How long a cell that ignores its timeout may go on before its session is ended (default 2000). */
  graceMs?: number;
}

export const DEFAULT_LIMITS: Required<Limits> = { timeoutMs: 30_000, memoryMb: 256, maxOutputBytes: 1 << 20, workspaceMb: 256, graceMs: 2_000 };

export interface SessionOptions<H extends object = Handlers> {
  handlers?: Partial<H>;
  /** Host folder mounted at /workspace (created if missing; Linux only); in memory only when omitted. */
  workspace?: string;
  limits?: Limits;
  /**
   * A handler's result that breaks its tool's `outputSchema`: `'error'` (default) fails the
   * call with a ToolError naming the JSON path (a handler bug never reaches the model as
   * silently wrong data); `'warn'` passes the result on and reports the mismatch as the
   * call's `warning` (onToolCall) and a `[tooliscode: warning: ...]` line on the cell's
   * stderr; `'off'` does not check.
   */
  outputSchema?: OutputSchemaMode;
}

export interface ToolCallRecord {
  name: string;
  namespace?: string;
  ms: number;
  ok: boolean;
}

export interface ToolCallEvent extends ToolCallRecord {
  args: Record<string, unknown>;
  error?: string;
  /** A result that broke the tool's outputSchema, passed on (`outputSchema: 'warn'`). */
  warning?: string;
}

export interface RunOptions {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  onToolCall?: (event: ToolCallEvent) => void;
}

export interface RunResult {
  ok: boolean;
  value?: string;
  stdout: string;
  stderr: string;
  error?: CellError;
  toolCalls: ToolCallRecord[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SessionClosedError extends Error {
  override name = 'SessionClosedError';
}

/** What a pooled worker is made of, before it belongs to a session. */
export interface WorkerHandle {
  worker: Worker;
  ctl: Int32Array;
  data: Uint8Array;
  replyPort: MessagePort;
  ready: Promise<void>;
}

export function spawnWorker(setup: Omit<WorkerSetup, 'ctl' | 'data' | 'replyPort'>, script: URL): WorkerHandle {
  const ctlBuffer = new SharedArrayBuffer(Ctl.SIZE * 4);
  const dataBuffer = new SharedArrayBuffer(DATA_BYTES);
  const { port1, port2 } = new MessageChannel();
  const workerData: WorkerSetup = { ...setup, ctl: ctlBuffer, data: dataBuffer, replyPort: port2 };
  const worker = new Worker(script, { workerData, transferList: [port2] });
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.t === 'ready') resolve();
      else if (m.t === 'crash') reject(new Error(`the guest failed to start: ${m.message}`));
      else return;
      worker.off('message', onMessage);
      worker.off('error', reject);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
  ready.catch(() => {}); // observed by whoever takes the worker
  return { worker, ctl: new Int32Array(ctlBuffer), data: new Uint8Array(dataBuffer), replyPort: port1, ready };
}

interface Cell {
  options: RunOptions;
  /** The output as it streamed in ('out' messages); the worker does not send it twice. */
  stdout: string[];
  stderr: string[];
  toolCalls: ToolCallRecord[];
  resolve: (r: RunResult) => void;
  timedOut: boolean;
  timers: NodeJS.Timeout[];
  /** The blocking request the guest waits on: a `call` in flight, or a parked `wait`. */
  waiting: { kind: 'call' | 'wait'; token: number; timer?: NodeJS.Timeout } | undefined;
  /** `start`ed calls that finished, not yet handed to a `wait`. */
  finished: ({ id: number } & CallReply)[];
}

export class Session {
  private closed: string | undefined;
  private cell: Cell | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private token = 0;
  /** @internal use Guest.createSession */
  constructor(
    private readonly handle: WorkerHandle,
    private readonly tools: ToolTable,
    private readonly handlers: Handlers,
    /** Complete: Guest.createSession fills in the defaults. */
    private readonly limits: Required<Limits>,
    private readonly outputSchema: OutputSchemaMode = 'error',
  ) {
    handle.worker.on('message', (m: FromWorker) => this.onMessage(m));
    handle.worker.on('error', (err) => this.end(`the session's worker failed: ${err.message}`));
    handle.worker.on('exit', () => this.end('the session ended'));
  }

  /** Runs one cell; cells of a session run one after another, in call order. */
  run(code: string, options: RunOptions = {}): Promise<RunResult> {
    const next = this.queue.then(() => this.runNow(code, options));
    this.queue = next.catch(() => {});
    return next;
  }

  /** Ends the session and its worker. Its workspace folder stays. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = 'the session is closed';
    await this.handle.worker.terminate();
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) return Promise.reject(new SessionClosedError(this.closed));
    return new Promise<RunResult>((resolve) => {
      const cell: Cell = { options, stdout: [], stderr: [], toolCalls: [], resolve, timedOut: false, timers: [], waiting: undefined, finished: [] };
      this.cell = cell;
      Atomics.store(this.handle.ctl, Ctl.INTERRUPT, 0);
      this.handle.worker.ref(); // a running cell keeps the process alive
      cell.timers.push(setTimeout(() => this.timeout(cell), this.limits.timeoutMs));
      cell.timers.push(
        setTimeout(() => {
          this.end(`the cell did not stop within ${this.limits.graceMs} ms after its time limit (stuck in a long C call?); the session was ended`);
          void this.handle.worker.terminate();
        }, this.limits.timeoutMs + this.limits.graceMs),
      );
      this.listen(cell);
      this.post({ t: 'run', code });
    });
  }

  /** Parks on REQUEST until the guest calls the host (Atomics.waitAsync: no polling). */
  private listen(cell: Cell): void {
    const wait = Atomics.waitAsync(this.handle.ctl, Ctl.REQUEST, 0);
    if (wait.async) void wait.value.then(() => this.takeRequest(cell));
    else this.takeRequest(cell);
  }

  private takeRequest(cell: Cell): void {
    if (this.cell !== cell) return; // woken at the end of its cell
    if (Atomics.compareExchange(this.handle.ctl, Ctl.REQUEST, 1, 0) === 1) {
      const length = Atomics.load(this.handle.ctl, Ctl.LENGTH);
      // length < 0: the request is too big for the buffer and comes as a 'host' message.
      if (length >= 0) this.onRequest(cell, decoder.decode(this.handle.data.subarray(0, length)));
    }
    this.listen(cell);
  }

  private post(m: ToWorker): void {
    this.handle.worker.postMessage(m);
  }

  private timeoutMessage(): string {
    return `the cell ran past its time limit (${this.limits.timeoutMs} ms) and was interrupted`;
  }

  private timeout(cell: Cell): void {
    if (this.cell !== cell) return;
    cell.timedOut = true;
    const message = this.timeoutMessage();
    const w = cell.waiting;
    if (w?.kind === 'call') this.reply(encodeJson({ ok: false, error: { kind: 'timeout', type: 'TimeoutError', message } }));
    else if (w?.kind === 'wait') this.reply(encodeJson({ timeout: true, message }));
    else {
      // Running Python: the guest polls this slot; the notify wakes a time.sleep.
      Atomics.store(this.handle.ctl, Ctl.INTERRUPT, 1);
      Atomics.notify(this.handle.ctl, Ctl.INTERRUPT);
    }
  }

  /** Hands the guest its reply and wakes it. */
  private reply(text: string): void {
    const cell = this.cell;
    if (cell?.waiting?.timer) clearTimeout(cell.waiting.timer);
    if (cell) cell.waiting = undefined;
    const { read, written } = encoder.encodeInto(text, this.handle.data);
    if (read === text.length) {
      Atomics.store(this.handle.ctl, Ctl.LENGTH, written);
    } else {
      this.handle.replyPort.postMessage(text);
      Atomics.store(this.handle.ctl, Ctl.LENGTH, -1);
    }
    Atomics.store(this.handle.ctl, Ctl.REPLY, 1);
    Atomics.notify(this.handle.ctl, Ctl.REPLY);
  }

  private finish(cell: Cell, result: Omit<RunResult, 'toolCalls' | 'stdout' | 'stderr'>): void {
    if (this.cell !== cell) return;
    for (const t of cell.timers) clearTimeout(t);
    if (cell.waiting?.timer) clearTimeout(cell.waiting.timer);
    this.cell = undefined;
    Atomics.notify(this.handle.ctl, Ctl.REQUEST); // releases the cell's parked listener
    this.handle.worker.unref();
    cell.resolve({ ...result, stdout: cell.stdout.join(''), stderr: cell.stderr.join(''), toolCalls: cell.toolCalls });
  }

  private end(reason: string): void {
    this.closed ??= reason;
    const cell = this.cell;
    if (cell) {
      this.finish(cell, { ok: false, error: { type: 'SessionEnded', message: this.closed, traceback: `SessionEnded: ${this.closed}\n` } });
    }
  }

  private onMessage(m: FromWorker): void {
    const cell = this.cell;
    switch (m.t) {
      case 'out':
        if (!cell) return;
        cell[m.stream].push(m.text);
        (m.stream === 'stdout' ? cell.options.onStdout : cell.options.onStderr)?.(m.text);
        return;
      case 'done':
        if (!cell) return;
        this.finish(cell, m.result);
        return;
      case 'crash':
        this.end(`the guest stopped: ${m.message}`);
        void this.handle.worker.terminate();
        return;
      case 'host':
        if (cell) this.onRequest(cell, m.request);
        else this.reply(badRequestReply('no cell is running'));
        return;
      default:
        return;
    }
  }

  private onRequest(cell: Cell, text: string): void {
    const r = parseRequest(text);
    const message = this.timeoutMessage();
    switch (r.op) {
      case 'bad':
        this.reply(badRequestReply(r.message));
        return;
      case 'call': {
        if (cell.timedOut) return this.reply(encodeJson({ ok: false, error: { kind: 'timeout', type: 'TimeoutError', message } }));
        const token = ++this.token;
        cell.waiting = { kind: 'call', token };
        void this.dispatch(cell, r.req).then((reply) => {
          // Only the call the guest still waits for gets the reply (not one cut off by the timeout).
          if (this.cell === cell && cell.waiting?.token === token) this.reply(encodeJson(reply));
        });
        return;
      }
      case 'wait': {
        for (const s of r.start) {
          void this.dispatch(cell, s.req).then((reply) => {
            if (this.cell !== cell) return;
            cell.finished.push({ id: s.id, ...reply });
            if (cell.waiting?.kind === 'wait') this.reply(encodeJson({ done: cell.finished.splice(0) }));
          });
        }
        if (cell.timedOut) return this.reply(encodeJson({ timeout: true, message }));
        if (cell.finished.length) return this.reply(encodeJson({ done: cell.finished.splice(0) }));
        const token = ++this.token;
        cell.waiting = { kind: 'wait', token };
        if (r.timeoutMs !== null) {
          cell.waiting.timer = setTimeout(() => {
            if (cell.waiting?.token === token) this.reply('{"done":[]}');
          }, r.timeoutMs);
        }
        return;
      }
    }
  }

  /** Validates, runs the handler, records the call; never throws. */
  private async dispatch(cell: Cell, req: ToolRequest): Promise<CallReply> {
    const start = performance.now();
    const spec: ToolSpec | undefined = this.tools.get(req.tool, req.namespace);
    let reply: CallReply;
    let warning: string | undefined;
    if (!spec) {
      reply = { ok: false, error: { kind: 'tool', type: 'ToolNotFound', message: `no tool named ${JSON.stringify(req.tool)}` } };
    } else {
      const handler = (req.namespace !== undefined ? this.handlers[`${req.namespace}.${req.tool}`] : undefined) ?? this.handlers[req.tool];
      try {
        this.tools.check(spec, req.args);
        if (!handler) throw Object.assign(new Error(`the host has no handler for tool ${JSON.stringify(req.tool)}`), { name: 'ToolNotImplemented' });
        reply = toReply(await handler(req.args), spec);
      } catch (err) {
        reply = errorReply(err);
      }
      const mismatch = this.outputSchema === 'off' ? undefined : this.tools.checkResult(spec, reply);
      if (mismatch && this.outputSchema === 'warn') warning = mismatch;
      else if (mismatch) reply = { ok: false, error: { kind: 'tool', type: 'ToolResultError', message: mismatch } };
    }
    if (warning && this.cell === cell) {
      const line = `[tooliscode: warning: ${warning}]\n`;
      cell.stderr.push(line);
      cell.options.onStderr?.(line);
    }
    const ms = performance.now() - start;
    const record: ToolCallRecord = { name: req.tool, ...(req.namespace !== undefined ? { namespace: req.namespace } : {}), ms, ok: reply.ok };
    cell.toolCalls.push(record);
    try {
      cell.options.onToolCall?.({ ...record, args: req.args, ...(reply.ok ? {} : { error: reply.error.message }), ...(warning ? { warning } : {}) });
    } catch {
      /* an observer's failure is not the tool's */
    }
    return reply;
  }
}
