// A session: one guest, run on a worker thread, with the host's handlers, limits and
// workspace. Cells run one at a time; tool calls run on this thread's event loop while
// the guest waits (session-protocol.ts).
//
// Between cells a session parks (Guest `park`, on by default): its worker hands the guest
// back (the memory is shared, so nothing is copied) and serves other sessions; the next
// cell takes a free worker, instantiates the module on that memory and goes on. A thread
// is for running a cell; an idle session is its memory.

import type { MessagePort, Worker } from 'node:worker_threads';
import { builtin } from './builtins.js';
import { type ToolRequest, badRequestReply, encodeJson, parseRequest, valueTooBig } from './host-calls.js';
import { CheckpointError } from './checkpoint.js';
import type { Guest } from './guest.js';
import type { CellError } from './instance.js';
import { type CheckMode, DEFAULT_CHECK_MODE, withCellOptions } from './check.js';
import { Ctl, DATA_BYTES, type FromWorker, type GuestSetup, type ParkedGuest, type ToWorker, type WorkerConfig, type WorkerSetup, SpinWatch, takePortMessage } from './session-protocol.js';
import { type CallReply, type OutputSchemaMode, type ToolSpec, ToolTable, errorReply, toReply } from './tools.js';

// `any`: each handler takes its own tool's argument type (see tools.d.ts)
export type Handler = (args: any) => unknown;
export type Handlers = Record<string, Handler>;

export interface Limits {
  /** Wall-clock time of one cell, tool calls included (default 30 000). */
  timeoutMs?: number;
  /** Linear memory of the guest (default 256): beyond it Python raises MemoryError. */
  memoryMb?: number;
  /**
   * UTF-8 bytes of stdout + stderr of one cell (default 1 MiB); the rest is dropped after
   * `[tooliscode: output truncated after N bytes]`. The cell's value, its error message and
   * its traceback are each cut to the same cap, with the same marker, inside the guest
   * before they reach the host; a longer result is refused (`ResultTooLarge`), the session kept.
   */
  maxOutputBytes?: number;
  /** Bytes the workspace may hold, files and folders (default 256): beyond it writes fail with ENOSPC. */
  workspaceMb?: number;
  /** How long a cell that ignores its timeout may go on before its session is ended (default 2000). */
  graceMs?: number;
  /**
   * Largest request the guest may send, in bytes of JSON: a call's arguments, or the calls
   * an `asyncio.gather` starts together (default 8 MiB). Checked on the session's own
   * thread; a bigger one fails with ToolArgumentError and never reaches a handler.
   */
  maxCallBytes?: number;
  /** Largest tool result handed to the guest, in bytes of JSON (default 16 MiB); a bigger one fails the call with ToolResultError. */
  maxResultBytes?: number;
}

export const DEFAULT_LIMITS: Required<Limits> = { timeoutMs: 30_000, memoryMb: 256, maxOutputBytes: 1 << 20, workspaceMb: 256, graceMs: 2_000, maxCallBytes: 8 << 20, maxResultBytes: 16 << 20 };

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
  /**
   * The pre-flight check of each cell's SDK calls (runtime/check.ts): `'block'` (default)
   * refuses a cell with a certain mistake before anything runs (`_tic.CellCheckError`),
   * `'warn'` only writes warnings to stderr, `'off'` does not check.
   */
  check?: CheckMode;
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
  /**
   * Cancels the cell: it gets KeyboardInterrupt (a call in flight fails with it), and the
   * session and its globals stay; a cell that does not stop within `graceMs` ends the
   * session. A cell aborted before it started never runs.
   */
  signal?: AbortSignal;
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

/** Asked of a session while a cell runs, for what only works between cells (checkpoint). */
export class SessionBusyError extends Error {
  override name = 'SessionBusyError';
}

/** What a pooled worker is made of, before it belongs to a session. */
export interface WorkerHandle {
  worker: Worker;
  ctl: Int32Array;
  request: Uint8Array;
  reply: Uint8Array;
  /** The main thread's end of the bridge port (big requests in, big replies out). */
  port: MessagePort;
  ready: Promise<void>;
}

/** Resolves when the worker says its guest is instantiated ('ready'), rejects if it cannot start or ends first. */
export function readyOf(worker: Worker): Promise<void> {
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.t === 'ready') resolve();
      else if (m.t === 'crash') reject(new Error(`the guest failed to start: ${m.message}`));
      else return;
      off();
    };
    const onExit = (code: number) => {
      reject(new Error(`the guest failed to start: its worker ended (exit code ${code})`));
      off();
    };
    const off = () => {
      worker.off('message', onMessage);
      worker.off('error', reject);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
    worker.once('exit', onExit);
  });
  ready.catch(() => {}); // observed by whoever takes the worker
  return ready;
}

/** Resolves on the worker's first message, 'booted' (its thread and modules are loaded: see v8-tuning.ts), or when it ends first. */
export function bootedOf(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      worker.off('message', done);
      worker.off('exit', done);
      worker.off('error', done);
      resolve();
    };
    worker.once('message', done);
    worker.once('exit', done);
    worker.once('error', done);
  });
}

/** A new worker with its bridge; `guest` undefined: it boots meanwhile and gets it in its first messages ('setup', 'module'). */
export function spawnWorker(guest: GuestSetup | undefined, script: URL): WorkerHandle {
  const ctl = new SharedArrayBuffer(Ctl.SIZE * 4);
  const request = new SharedArrayBuffer(DATA_BYTES);
  const reply = new SharedArrayBuffer(DATA_BYTES);
  const { MessageChannel, Worker } = builtin('node:worker_threads');
  const { port1, port2 } = new MessageChannel();
  const workerData: WorkerSetup = { ...(guest ? { guest } : {}), ctl, running: runningCells.buffer as SharedArrayBuffer, request, reply, port: port2 };
  // Workers inherit the process's flags; `--input-type` (node --input-type=module -e ...) stops a
  // worker that runs a file, so then it gets the others (V8 flags, process-wide, need no passing).
  const execArgv = process.execArgv.some((a) => a.startsWith('--input-type')) ? process.execArgv.filter((a) => a.startsWith('--') && !a.startsWith('--input-type') && !/^--(expose|max|stack|no-|wasm|liftoff|turbo|trace)/.test(a)) : undefined;
  // An explicit old-generation cap (far above what a session's thread holds: requests,
  // replies and output are capped in MB) makes V8 size the thread's heap from it rather than
  // from the machine: 0.75 MB less per idle worker, about 0.9 MB per idle session; caps of
  // 2 GB and more save nothing (measured on Node 20, 50 sessions).
  const worker = new Worker(script, { workerData, transferList: [port2], resourceLimits: { maxOldGenerationSizeMb: 1536, stackSizeMb: WORKER_STACK_MB }, ...(execArgv ? { execArgv } : {}) });
  worker.unref();
  const ready = readyOf(worker);
  return { worker, ctl: new Int32Array(ctl), request: new Uint8Array(request), reply: new Uint8Array(reply), port: port1, ready };
}

interface Cell {
  options: RunOptions;
  /** The output as it streamed in ('out' messages); the worker does not send it twice. */
  stdout: string[];
  stderr: string[];
  toolCalls: ToolCallRecord[];
  resolve: (r: RunResult) => void;
  /** Set once the cell is told to stop: every later call of the cell fails at once with this. */
  stopping: { kind: 'timeout' | 'cancelled'; message: string } | undefined;
  timers: NodeJS.Timeout[];
  /**
   * The request the guest is blocked on (its seq): a `call` in flight, or a parked `wait`;
   * `at`: when it was taken (performance.now(), for REPLY_THINK).
   */
  waiting: { kind: 'call' | 'wait'; seq: number; at: number; timer?: NodeJS.Timeout } | undefined;
  /** `start`ed calls that finished, not yet handed to a `wait`: `{"id":N,...reply}` texts. */
  finished: string[];
  /** An Atomics.waitAsync for the next request is parked (one at a time). */
  listening: boolean;
  /** When requests began to be taken without an event-loop turn (see `spinForNext`). */
  chainStart: number;
  /** The watch for the next request missed (or was not worth it): how long the guest took is reported when it comes. */
  missedNext: boolean;
  cleanup?: () => void;
}

/**
 * After SPIN_CHAIN_MS of requests taken right after replies (spinForNext), the next one goes
 * through the event loop, so other sessions, timers and I/O wait no longer than that.
 */
const SPIN_CHAIN_MS = 2;

/**
 * The session thread's stack (Node's default is 4 MiB). The guest's wasm frames live on it
 * (its C stack proper is in its memory, 4 MiB: link.sh): at Python's recursion limit of
 * 1000, recursion through C (sorted with a recursive key, classes building a tree) must
 * stop with RecursionError before either stack runs out, which would end the session.
 */
const WORKER_STACK_MB = 16;

/** Cells running in this process, shared with the workers (WorkerSetup.running): SpinWatch's `solo`. */
const runningCells = new Int32Array(new SharedArrayBuffer(4));
/** Called once no cell runs in the process (whenNoCellRuns). */
const onNoCellRuns = new Set<() => void>();

/** Calls `fn` now if no cell runs in the process, or when the last one running ends; the returned function cancels that. */
export function whenNoCellRuns(fn: () => void): () => void {
  if (Atomics.load(runningCells, 0) === 0) {
    fn();
    return () => {};
  }
  onNoCellRuns.add(fn);
  return () => onNoCellRuns.delete(fn);
}

/** The result of a cell cancelled before it started (its signal aborted, or interrupt() while it waited for a worker). */
const notStarted = (): RunResult => ({ ok: false, stdout: '', stderr: '', toolCalls: [], error: { type: 'KeyboardInterrupt', message: 'the cell was cancelled before it started', traceback: 'KeyboardInterrupt: the cell was cancelled before it started\n' } });

/** `{"done":[...]}` from finished calls' texts. */
const doneReply = (finished: string[]) => `{"done":[${finished.join(',')}]}`;

/**
 * Posts `msg` and resolves with the worker's reply of type `t`; rejects if the worker ends
 * first. The worker keeps the process alive until it answers (workers are unref'd: an
 * idle session must not), then not, unless `keep()` says a cell now needs it.
 */
export function ask<T extends FromWorker['t']>(worker: Worker, msg: ToWorker, t: T, keep: () => boolean): Promise<Extract<FromWorker, { t: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromWorker) => {
      if (m.t !== t) return;
      done();
      resolve(m as Extract<FromWorker, { t: T }>);
    };
    const onExit = () => {
      done();
      reject(new Error('the worker ended'));
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      if (!keep()) worker.unref();
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    worker.ref();
    worker.postMessage(msg);
  });
}

export class Session {
  private closed: string | undefined;
  private cell: Cell | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** The worker serving the session; undefined while it is parked. */
  private handle: WorkerHandle | undefined;
  /** The guest, while the session is parked: held here, on no thread. */
  private parked: ParkedGuest | undefined;
  /** A park or an attach under way: what a cell, a checkpoint and close wait for first. */
  private moving: Promise<void> | undefined;
  private parkTimer: NodeJS.Immediate | undefined;
  /** Work between cells that needs the worker (a checkpoint): no parking meanwhile. */
  private busy = 0;
  /** A cell waiting for its parked session to be attached; interrupt() then cancels it before it starts. */
  private starting: { interrupted: boolean } | undefined;
  /** Seq of the last request taken from the worker (session-protocol.ts). */
  private lastSeq = 0;
  /** The main thread serves every session: it watches for a next request 50-100 us at most. */
  private readonly requestWatch = new SpinWatch(0.05, 0.1);
  /** Made once: it runs after every reply. */
  private readonly requested = () => Atomics.load(this.handle!.ctl, Ctl.REQ_SEQ) !== this.lastSeq;
  /** A cell runs (its worker keeps the process alive). */
  private readonly running = () => this.cell !== undefined;
  private readonly listeners = {
    message: (m: FromWorker) => this.onMessage(m),
    error: (err: Error) => this.end(`the session's worker failed: ${err.message}`),
    exit: () => this.end('the session ended'),
  };
  /** @internal use Guest.createSession */
  constructor(
    handle: WorkerHandle,
    private readonly tools: ToolTable,
    private readonly handlers: Handlers,
    /** Complete: Guest.createSession fills in the defaults. */
    private readonly limits: Required<Limits>,
    private readonly outputSchema: OutputSchemaMode = 'error',
    private readonly check: CheckMode = DEFAULT_CHECK_MODE,
    /** The guest it came from and the options it was made with: what checkpoint() and fork() need. */
    private readonly owner?: Guest,
    private readonly options: SessionOptions = {},
    /** What its worker was configured with: given again to each worker it continues on. */
    private readonly config?: WorkerConfig,
  ) {
    this.bind(handle);
    this.parkSoon();
  }

  /** Serves the session from this worker from now on. */
  private bind(handle: WorkerHandle): void {
    this.handle = handle;
    // A recycled worker has served sessions before: its last request is not ours.
    this.lastSeq = Atomics.load(handle.ctl, Ctl.REQ_SEQ);
    handle.worker.on('message', this.listeners.message);
    handle.worker.on('error', this.listeners.error);
    handle.worker.on('exit', this.listeners.exit);
  }

  private unbind(): WorkerHandle {
    const handle = this.handle!;
    handle.worker.off('message', this.listeners.message);
    handle.worker.off('error', this.listeners.error);
    handle.worker.off('exit', this.listeners.exit);
    this.handle = undefined;
    return handle;
  }

  /** Sessions of a parking guest, with the workspace in memory (a host folder keeps its thread: host descriptors). */
  private get parkable(): boolean {
    return this.owner?.parks === true && this.config !== undefined && this.options.workspace === undefined;
  }

  /**
   * Parks the session once this turn of the event loop is over, if it is still idle then:
   * `await run(); run()` starts the next cell before that, on the same worker.
   */
  private parkSoon(): void {
    if (!this.parkable || this.closed) return;
    if (this.parkTimer) clearImmediate(this.parkTimer);
    this.parkTimer = setImmediate(() => {
      this.parkTimer = undefined;
      if (this.cell || this.busy || this.closed || !this.handle || this.moving) return;
      this.moving = this.park().finally(() => (this.moving = undefined));
    });
    this.parkTimer.unref();
  }

  private async park(): Promise<void> {
    const handle = this.handle!;
    let reply: Extract<FromWorker, { t: 'parked' }>;
    try {
      reply = await ask(handle.worker, { t: 'park' }, 'parked', this.running);
    } catch {
      return; // the worker ended: its 'exit' listener has ended the session
    }
    if (!reply.parked) return; // not parked (the worker says why): the session stays where it is
    this.parked = reply.parked;
    this.owner!.recycle(this.unbind());
  }

  /** Continues a parked session on a free worker. */
  private async attach(): Promise<void> {
    const handle = await this.owner!.takeWorker();
    let reply: Extract<FromWorker, { t: 'configured' }>;
    try {
      reply = await ask(handle.worker, { t: 'attach', parked: this.parked!, config: this.config! }, 'configured', this.running);
    } catch (err) {
      // The worker died taking the guest up: the session ends rather than try another.
      this.parked = undefined;
      this.closed ??= `the session could not continue: ${(err as Error).message}`;
      throw new SessionClosedError(this.closed);
    }
    if (reply.error) {
      // The guest could not be taken up again: the session ends, the worker serves others.
      this.owner!.recycle(handle);
      this.parked = undefined;
      this.closed ??= `the session could not continue: ${reply.error}`;
      throw new SessionClosedError(this.closed);
    }
    this.parked = undefined;
    this.bind(handle);
  }

  /** Waits out a park or an attach under way, then attaches the session if it is parked. */
  private async attached(): Promise<WorkerHandle> {
    if (this.parkTimer) clearImmediate(this.parkTimer);
    this.parkTimer = undefined;
    while (this.moving) await this.moving.catch(() => {});
    if (this.closed) throw new SessionClosedError(this.closed);
    if (!this.handle) {
      this.moving = this.attach().finally(() => (this.moving = undefined));
      await this.moving;
    }
    if (this.closed) throw new SessionClosedError(this.closed);
    return this.handle!;
  }

  /** Runs one cell; cells of a session run one after another, in call order. */
  run(code: string, options: RunOptions = {}): Promise<RunResult> {
    const next = this.queue.then(() =>
      options.signal?.aborted
        ? notStarted()
        : this.runNow(code, options),
    );
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Stops the running cell softly: it gets KeyboardInterrupt (a tool call in flight fails
   * with it; the handler's late result is dropped), and the session keeps its globals. A
   * cell that goes on regardless is ended with its session after `graceMs`. No-op between cells.
   */
  interrupt(): void {
    const cell = this.cell;
    if (cell) this.stop(cell, 'cancelled');
    else if (this.starting) this.starting.interrupted = true; // taking a worker: the cell never runs
  }

  /**
   * The session as bytes, between cells (refused while a cell runs): Python's heap, globals,
   * imports and pending asyncio tasks, the in-memory workspace and open files; a host
   * folder by reference. Only the memory pages that differ from the build's snapshot are
   * stored, compressed; signed with the guest's checkpoint key. `guest.restore(bytes)`
   * continues it, in this process or another.
   */
  async checkpoint(): Promise<Uint8Array> {
    if (this.closed) throw new SessionClosedError(this.closed);
    if (this.cell) throw new SessionBusyError('a cell is running: checkpoint between cells (await its run() first)');
    if (!this.owner) throw new Error('this session was not made by a Guest: it cannot be checkpointed');
    const context = this.owner.checkpointContext();
    this.busy++;
    try {
      const handle = await this.attached();
      if (this.cell) throw new SessionBusyError('a cell is running: checkpoint between cells (await its run() first)');
      const reply = await ask(handle.worker, { t: 'checkpoint', ...context }, 'checkpointed', this.running).catch((err: Error) => ({ t: 'checkpointed' as const, error: err.message, bytes: undefined }));
      if (!reply.bytes) throw new CheckpointError(`cannot checkpoint the session: ${reply.error}`);
      return reply.bytes;
    } finally {
      this.busy--;
      this.parkSoon();
    }
  }

  /**
   * An independent copy of this session as it is now (between cells), for trying two
   * continuations; it has the same handlers, limits and workspace (a host folder is
   * shared, an in-memory one copied) and fresh randomness.
   */
  async fork(options: Partial<SessionOptions> = {}): Promise<Session> {
    const bytes = await this.checkpoint();
    return this.owner!.restore(bytes, { ...this.options, ...options, fresh: true });
  }

  /** Ends the session and its worker. Its workspace folder stays. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = 'the session is closed';
    if (this.parkTimer) clearImmediate(this.parkTimer);
    while (this.moving) await this.moving.catch(() => {});
    // Parked: the guest is only its memory, freed with this object.
    this.parked = undefined;
    if (!this.handle) return;
    // A session that ended well, with its workspace in memory, hands its thread back to its
    // guest for the next session; one with a host folder (host descriptors) ends it.
    if (this.owner && this.options.workspace === undefined && !this.cell) {
      this.owner.recycle(this.unbind());
      return;
    }
    await this.handle.worker.terminate();
  }

  get isClosed(): boolean {
    return this.closed !== undefined;
  }

  private async runNow(code: string, options: RunOptions): Promise<RunResult> {
    if (this.closed) throw new SessionClosedError(this.closed);
    const starting = (this.starting = { interrupted: false });
    let handle: WorkerHandle;
    try {
      handle = await this.attached();
    } finally {
      this.starting = undefined;
    }
    if (options.signal?.aborted || starting.interrupted) {
      this.parkSoon();
      return notStarted();
    }
    return new Promise<RunResult>((resolve) => {
      const cell: Cell = { options, stdout: [], stderr: [], toolCalls: [], resolve, stopping: undefined, timers: [], waiting: undefined, finished: [], listening: false, chainStart: 0, missedNext: false };
      this.cell = cell;
      Atomics.add(runningCells, 0, 1);
      Atomics.store(handle.ctl, Ctl.INTERRUPT, 0);
      handle.worker.ref(); // a running cell keeps the process alive
      cell.timers.push(setTimeout(() => this.stop(cell, 'timeout'), this.limits.timeoutMs));
      if (options.signal) {
        const onAbort = () => this.stop(cell, 'cancelled');
        options.signal.addEventListener('abort', onAbort, { once: true });
        cell.cleanup = () => options.signal!.removeEventListener('abort', onAbort);
      }
      this.listen(cell);
      this.post({ t: 'run', code: withCellOptions(code, this.check) });
    });
  }

  /** Parks until the worker publishes a request after the last one taken (Atomics.waitAsync: no polling). */
  private listen(cell: Cell): void {
    if (cell.listening || this.cell !== cell) return;
    const wait = Atomics.waitAsync(this.handle!.ctl, Ctl.REQ_SEQ, this.lastSeq);
    if (!wait.async) return this.takeRequest(cell);
    cell.listening = true;
    void wait.value.then(() => {
      cell.listening = false;
      cell.chainStart = performance.now(); // through the event loop: a new chain may start
      if (cell.missedNext && this.cell === cell) {
        // The guest's own time to its next request, not this thread's slower way of noticing
        // it (which, counted, would keep the watch off for as long as it is off).
        const think = Atomics.load(this.handle!.ctl, Ctl.REQ_THINK);
        if (think >= 0) this.requestWatch.waited(think / 1000);
        cell.missedNext = false;
      }
      this.takeRequest(cell);
    });
  }

  private takeRequest(cell: Cell): void {
    if (this.cell !== cell) return; // woken at the end of its cell
    const seq = Atomics.load(this.handle!.ctl, Ctl.REQ_SEQ);
    if (seq !== this.lastSeq) {
      this.lastSeq = seq;
      cell.waiting = { kind: 'call', seq, at: performance.now() };
      const think = Atomics.load(this.handle!.ctl, Ctl.REQ_THINK);
      if (think >= 0) this.requestWatch.own(think / 1000);
      const length = Atomics.load(this.handle!.ctl, Ctl.REQ_LEN);
      const text = length >= 0 ? decoder.decode(this.handle!.request.subarray(0, length)) : takePortMessage(this.handle!.port, seq, builtin('node:worker_threads').receiveMessageOnPort);
      try {
        if (text === undefined) this.reply(seq, badRequestReply('the request did not arrive'));
        else this.onRequest(cell, seq, text);
      } catch (err) {
        // A request this code did not foresee costs that call, never the process.
        this.reply(seq, badRequestReply(`the host could not read the request: ${(err as Error).message}`));
      }
    }
    this.listen(cell);
  }

  /**
   * Right after a reply to a call: a cell calling a tool in a loop sends its next request
   * within microseconds, so the main thread watches REQ_SEQ a moment (SpinWatch) and takes the
   * request in a microtask (no event-loop turn, no recursion) instead of waiting for the
   * parked listener to be woken.
   */
  private spinForNext(cell: Cell, now: number): void {
    if (cell.stopping || now - cell.chainStart > SPIN_CHAIN_MS) return;
    if (this.requestWatch.watch(this.requested, now, Atomics.load(runningCells, 0) === 1)) queueMicrotask(() => this.takeRequest(cell));
    else cell.missedNext = true;
  }

  private post(m: ToWorker): void {
    this.handle!.worker.postMessage(m);
  }

  /**
   * Tells the cell to stop (its time limit, or a cancel): a call or wait in flight is
   * answered with the error now, running Python is interrupted at its next poll, a sleep
   * is woken. After `graceMs` a cell that is still running ends its session.
   */
  private stop(cell: Cell, kind: 'timeout' | 'cancelled'): void {
    if (this.cell !== cell || cell.stopping) return;
    const message = kind === 'timeout' ? `the cell ran past its time limit (${this.limits.timeoutMs} ms) and was interrupted` : 'the cell was cancelled';
    cell.stopping = { kind, message };
    cell.timers.push(
      setTimeout(() => {
        const why = kind === 'timeout' ? 'after its time limit' : 'after it was cancelled';
        this.end(`the cell did not stop within ${this.limits.graceMs} ms ${why} (stuck in a long C call, or catching the interrupt?); the session was ended`);
        void this.handle!.worker.terminate();
      }, this.limits.graceMs),
    );
    const w = cell.waiting;
    if (w?.kind === 'call') this.reply(w.seq, this.stoppedCall(cell));
    else if (w?.kind === 'wait') this.reply(w.seq, this.stoppedWait(cell));
    else {
      // Running Python: the guest polls this slot; the notify wakes a time.sleep.
      Atomics.store(this.handle!.ctl, Ctl.INTERRUPT, kind === 'timeout' ? 1 : 2);
      Atomics.notify(this.handle!.ctl, Ctl.INTERRUPT);
    }
  }

  /** The reply to a call of a cell told to stop (the guest raises TimeoutError or KeyboardInterrupt). */
  private stoppedCall(cell: Cell): string {
    const { kind, message } = cell.stopping!;
    return JSON.stringify({ ok: false, error: { kind, type: kind === 'timeout' ? 'TimeoutError' : 'KeyboardInterrupt', message } });
  }

  private stoppedWait(cell: Cell): string {
    const { kind, message } = cell.stopping!;
    return JSON.stringify(kind === 'timeout' ? { timeout: true, message } : { cancelled: true, message });
  }

  /**
   * Hands the guest the reply to request `seq` and wakes it, if the guest still waits for
   * exactly that request; a late reply (the call timed out) or a second one is dropped.
   */
  private reply(seq: number, text: string): void {
    const cell = this.cell;
    if (!cell || cell.waiting?.seq !== seq) return;
    if (cell.waiting.timer) clearTimeout(cell.waiting.timer);
    const { kind, at } = cell.waiting;
    cell.waiting = undefined;
    const { ctl, reply, port } = this.handle!;
    const now = performance.now();
    Atomics.store(ctl, Ctl.REPLY_THINK, Math.min(0x7fff_ffff, Math.round((now - at) * 1000)));
    // A UTF-16 string of n units is at most 3n UTF-8 bytes: small ones go in the buffer.
    const { read, written } = text.length * 3 <= reply.length ? encoder.encodeInto(text, reply) : { read: -1, written: 0 };
    if (read === text.length) {
      Atomics.store(ctl, Ctl.REPLY_LEN, written);
    } else {
      port.postMessage({ seq, text }); // before REPLY_SEQ: there when the worker looks
      Atomics.store(ctl, Ctl.REPLY_LEN, -1);
    }
    Atomics.store(ctl, Ctl.REPLY_SEQ, seq);
    Atomics.notify(ctl, Ctl.REPLY_SEQ);
    // After a `wait`, the other started calls finish in this thread's microtasks: no spin.
    if (kind === 'call') this.spinForNext(cell, now);
  }

  private finish(cell: Cell, result: Omit<RunResult, 'toolCalls' | 'stdout' | 'stderr'>): void {
    if (this.cell !== cell) return;
    for (const t of cell.timers) clearTimeout(t);
    cell.cleanup?.();
    if (cell.waiting?.timer) clearTimeout(cell.waiting.timer);
    this.cell = undefined;
    Atomics.sub(runningCells, 0, 1);
    Atomics.notify(this.handle!.ctl, Ctl.REQ_SEQ); // releases the cell's parked listener
    this.handle!.worker.unref();
    cell.resolve({ ...result, stdout: cell.stdout.join(''), stderr: cell.stderr.join(''), toolCalls: cell.toolCalls });
    this.parkSoon();
    if (Atomics.load(runningCells, 0) === 0 && onNoCellRuns.size > 0) {
      const waiting = [...onNoCellRuns];
      onNoCellRuns.clear();
      for (const fn of waiting) fn();
    }
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
        void this.handle!.worker.terminate();
        return;
      default:
        return;
    }
  }

  private onRequest(cell: Cell, seq: number, text: string): void {
    const r = parseRequest(text);
    switch (r.op) {
      case 'bad':
        this.reply(seq, badRequestReply(r.message));
        return;
      case 'call': {
        if (cell.stopping) return this.reply(seq, this.stoppedCall(cell));
        void this.dispatch(cell, r.req).then((reply) => this.reply(seq, reply));
        return;
      }
      case 'wait': {
        cell.waiting = { kind: 'wait', seq, at: performance.now() };
        for (const s of r.start) {
          void this.dispatch(cell, s.req).then((reply) => {
            if (this.cell !== cell) return;
            cell.finished.push(`{"id":${s.id},${reply.slice(1)}`);
            if (cell.waiting?.kind === 'wait') this.reply(cell.waiting.seq, doneReply(cell.finished.splice(0)));
          });
        }
        if (cell.stopping) return this.reply(seq, this.stoppedWait(cell));
        if (cell.finished.length) return this.reply(seq, doneReply(cell.finished.splice(0)));
        if (r.timeoutMs !== null) cell.waiting.timer = setTimeout(() => this.reply(seq, '{"done":[]}'), r.timeoutMs);
        return;
      }
    }
  }

  /**
   * Validates, runs the handler, records the call, and gives the reply's JSON text;
   * never throws. A result too big or too deep for the guest is refused here, before it
   * is checked against the outputSchema or serialized (both would recurse or copy it).
   */
  private async dispatch(cell: Cell, req: ToolRequest): Promise<string> {
    const start = performance.now();
    let reply: CallReply;
    let warning: string | undefined;
    try {
      ({ reply, warning } = await this.invoke(req));
    } catch (err) {
      reply = errorReply(err); // a stack overflow in a validator, say: that call fails
    }
    let text = encodeJson(reply);
    if (text.length * 3 > this.limits.maxResultBytes && Buffer.byteLength(text) > this.limits.maxResultBytes) {
      reply = { ok: false, error: { kind: 'tool', type: 'ToolResultError', message: `the result of ${JSON.stringify(req.tool)} is ${(Buffer.byteLength(text) / 1048576).toFixed(1)} MB of JSON, over this session's limit (limits.maxResultBytes)` } };
      text = JSON.stringify(reply);
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
    return text;
  }

  private async invoke(req: ToolRequest): Promise<{ reply: CallReply; warning?: string }> {
    const spec: ToolSpec | undefined = this.tools.get(req.tool, req.namespace);
    if (!spec) return { reply: { ok: false, error: { kind: 'tool', type: 'ToolNotFound', message: `no tool named ${JSON.stringify(req.tool)}` } } };
    const handler = (req.namespace !== undefined ? this.handlers[`${req.namespace}.${req.tool}`] : undefined) ?? this.handlers[req.tool];
    let reply: CallReply;
    try {
      this.tools.check(spec, req.args);
      if (!handler) throw Object.assign(new Error(`the host has no handler for tool ${JSON.stringify(req.tool)}`), { name: 'ToolNotImplemented' });
      reply = toReply(await handler(req.args), spec);
    } catch (err) {
      reply = errorReply(err);
    }
    const tooBig = valueTooBig(reply, this.limits.maxResultBytes);
    if (tooBig) return { reply: { ok: false, error: { kind: 'tool', type: 'ToolResultError', message: `the result of ${spec.pyName}() cannot go to the guest: ${tooBig}` } } };
    const mismatch = this.outputSchema === 'off' ? undefined : this.tools.checkResult(spec, reply);
    if (mismatch && this.outputSchema === 'warn') return { reply, warning: mismatch };
    if (mismatch) return { reply: { ok: false, error: { kind: 'tool', type: 'ToolResultError', message: mismatch } } };
    return { reply };
  }
}
