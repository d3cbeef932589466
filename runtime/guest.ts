// The embedding API: `loadGuest(dir)` reads and compiles the output of `tic build` once
// per process; `guest.createSession()` starts an isolated session from it.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Manifest } from '../compiler/build.js';
import { GuestLoadError, readBuildDir } from './load.js';
import { packageRoot } from './package-root.js';
import { CheckpointError, checkCheckpointHeader, initialMemory } from './checkpoint.js';
import type { GuestSetup, ToWorker, WorkerConfig } from './session-protocol.js';
import { loadParkable } from './split-image.js';
import { cacheRoot, holdCacheEntry } from './cache-dir.js';
import { instrumentGlobals } from './snapshot/capture.js';
import { type Handlers, type Limits, DEFAULT_LIMITS, Session, type SessionOptions, type WorkerHandle, ask, bootedOf, readyOf, spawnWorker, whenNoCellRuns } from './session.js';
import { ToolTable } from './tools.js';
import { prebuiltValidators } from './validators.js';
import { tuneV8ForGuest } from './v8-tuning.js';

export interface LoadOptions {
  /**
   * Signs checkpoints (HMAC-SHA256) and refuses unsigned or tampered ones on restore
   * (default: $TIC_CHECKPOINT_KEY; none: checkpoints are validated field by field only).
   */
  checkpointKey?: string;
  /**
   * Workers kept instantiated and ready, so that createSession only hands one over
   * (default 1; 0 starts every session cold). Idle workers never keep the process alive.
   */
  warm?: number;
  /**
   * Sessions give their thread back between cells (default true): an idle session is its
   * guest's memory and a little state (about 11 MB), not a thread as well (another 7 MB);
   * the next cell takes a free worker and continues there (under a millisecond). False
   * keeps one thread per session for its whole life. Sessions with a host-folder workspace
   * always keep theirs, and so does one while its in-memory workspace holds over 1 MiB.
   */
  park?: boolean;
}

/** How long a worker past `warm` + 1 may stay idle in the pool before it is ended. */
const IDLE_WORKER_MS = 5_000;
/** The longest a used warm worker waits to be replaced while cells run (refillSoon). */
const REFILL_WAIT_MS = 500;

/**
 * Posts a configure or restore to the worker and waits for its answer (session.ts `ask`);
 * an error in it, or the worker ending first, ends the worker and rejects with `fail(why)`.
 */
async function request(handle: WorkerHandle, msg: ToWorker, t: 'configured' | 'restored', fail: (error: string) => Error): Promise<void> {
  const reply = await ask(handle.worker, msg, t, () => false).catch((err: Error) => ({ error: err.message }));
  if (reply.error === undefined) return;
  await handle.worker.terminate();
  throw fail(reply.error);
}

/** Bytes every worker of the process reads without copying. */
function shared(bytes: Uint8Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}

/**
 * The worker script: the one-file bundle `npm run build` makes (scripts/build.mjs), which
 * boots in two thirds of the time; in a clone of the repository, not when tsc has written
 * the modules since (then they are newer than it, and the bundle would be stale). An
 * installed package's files have the times npm unpacked them at, and no tsc runs there.
 */
function workerScript(): URL {
  return pathToFileURL(workerScriptIn(join(packageRoot(), 'build', 'runtime')));
}

/** @internal workerScript's choice in the folder `dir`. */
export function workerScriptIn(dir: string): string {
  const modules = join(dir, 'session-worker.js');
  const bundle = join(dir, 'session-worker.cjs');
  if (!existsSync(modules)) throw new GuestLoadError(`${modules} is missing: run npm run build`);
  if (!existsSync(bundle)) return modules;
  const clone = existsSync(join(dir, '..', '..', '.git'));
  return !clone || statSync(bundle).mtimeMs >= statSync(modules).mtimeMs ? bundle : modules;
}

export class Guest {
  private readonly pool: WorkerHandle[] = [];

  private base: SharedArrayBuffer | undefined;
  private closing = false;

  /** @internal use loadGuest */
  constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly tools: ToolTable,
    private readonly setup: GuestSetup,
    private readonly script: URL,
    private readonly warm: number,
    private readonly checkpointKey: string | undefined,
    started: WorkerHandle[] = [],
  ) {
    for (const handle of started) this.pool.push(this.adopt(handle));
    this.refill();
  }

  /** A new worker; whenever it ends, it leaves the pool (once per worker, however often it is recycled). */
  private spawn(): WorkerHandle {
    return this.adopt(spawnWorker(this.setup, this.script));
  }

  private adopt(handle: WorkerHandle): WorkerHandle {
    handle.worker.once('exit', () => {
      const i = this.pool.indexOf(handle);
      if (i >= 0) this.pool.splice(i, 1);
    });
    return handle;
  }

  private refill(): void {
    while (this.pool.length < this.warm) this.pool.push(this.spawn());
  }

  private refillPending = false;

  /**
   * Refills the pool once no cell runs in the process, or after REFILL_WAIT_MS at the latest:
   * a worker booting beside a cell takes the core that cell needs (measured on 2 cores: a new
   * session's first cell took 40 ms instead of 25 with the refill booting beside it). First
   * after the current turn, so that the session just handed out has started its cell.
   */
  private refillSoon(): void {
    if (this.refillPending) return;
    this.refillPending = true;
    let cancel = () => {};
    const go = () => {
      if (!this.refillPending) return;
      this.refillPending = false;
      clearTimeout(timer);
      cancel();
      if (!this.closing) this.refill();
    };
    const timer = setTimeout(go, REFILL_WAIT_MS);
    timer.unref();
    setImmediate(() => (cancel = whenNoCellRuns(go)));
  }

  /**
   * @internal A worker a session let go of (it closed, or parked): reset to a fresh guest
   * and kept for the next session or cell. Workers past `warm` + 1 that stay idle for
   * IDLE_WORKER_MS are ended: parked sessions that run cells at the same time need as
   * many threads, and a burst that comes back soon finds them (a new worker costs 25-35 ms
   * before its first cell) instead of starting and ending threads cell after cell.
   */
  recycle(handle: WorkerHandle): void {
    if (this.closing) {
      void handle.worker.terminate();
      return;
    }
    handle.ready = readyOf(handle.worker);
    handle.worker.postMessage({ t: 'reset' } satisfies ToWorker);
    this.pool.push(handle);
    this.idleSince.set(handle, performance.now());
    if (this.pool.length > this.warm + 1) this.trimLater();
  }

  private readonly idleSince = new WeakMap<WorkerHandle, number>();
  private trimTimer: NodeJS.Timeout | undefined;

  /** Ends the idle workers past `warm` + 1 once they have been idle IDLE_WORKER_MS. */
  private trimLater(): void {
    if (this.trimTimer) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      const now = performance.now();
      // The pool is taken from its front: the workers at its back were used last.
      while (this.pool.length > this.warm + 1 && now - (this.idleSince.get(this.pool[0]!) ?? 0) >= IDLE_WORKER_MS) void this.pool.shift()!.worker.terminate();
      if (this.pool.length > this.warm + 1) this.trimLater();
    }, IDLE_WORKER_MS);
    this.trimTimer.unref();
  }

  /** @internal workers in the pool, ready or starting, that no session holds. */
  get idleWorkers(): number {
    return this.pool.length;
  }

  /** @internal whether sessions of this guest can give their thread back between cells. */
  get parks(): boolean {
    return this.setup.parking !== undefined;
  }

  /** @internal a free worker, for a parked session to continue on. */
  async takeWorker(): Promise<WorkerHandle> {
    const handle = this.pool.shift() ?? this.spawn();
    handle.worker.ref(); // a cell waits for it: the process must not exit meanwhile
    try {
      await handle.ready;
    } catch (err) {
      void handle.worker.terminate();
      throw err;
    } finally {
      handle.worker.unref();
      this.refillSoon();
    }
    return handle;
  }

  /** Starts a session: a fresh guest of its own, from the snapshot. */
  async createSession<H extends object = Handlers>(options: SessionOptions<H> = {}): Promise<Session> {
    // The pool is refilled once this session is ready: a worker starting beside it would
    // take the core it needs (a new worker costs tens of ms of CPU).
    const { handle, limits, config } = await this.configuredWorker(options).finally(() => this.refillSoon());
    return this.session(handle, limits, config, options);
  }

  /**
   * A session that continues where `checkpoint` (Session.checkpoint) left off: in this
   * process or another, with its globals, imports, pending tasks, in-memory workspace and
   * open files. Refused (CheckpointError) if another build made it, if it is unsigned or
   * tampered with under a checkpoint key, or if any field is out of bounds. A host-folder
   * workspace is given again as `workspace` (its files are the folder's, not the checkpoint's).
   */
  async restore<H extends object = Handlers>(checkpoint: Uint8Array, options: SessionOptions<H> & { fresh?: boolean } = {}): Promise<Session> {
    checkCheckpointHeader(checkpoint, this.guestSha256); // another build's: refused before a worker is taken
    const { handle, limits, config } = await this.configuredWorker(options).catch((err: unknown) => {
      this.refillSoon();
      throw err;
    });
    // Decoded (signature, then every field) on the session's thread, not this one.
    const restore: ToWorker = { t: 'restore', checkpoint, guestSha256: this.guestSha256, ...(this.checkpointKey !== undefined ? { key: this.checkpointKey } : {}), fresh: options.fresh ?? false };
    await request(handle, restore, 'restored', (e) => new CheckpointError(`cannot restore the checkpoint: ${e}`)).finally(() => this.refillSoon());
    return this.session(handle, limits, config, options);
  }

  private session(handle: WorkerHandle, limits: Required<Limits>, config: WorkerConfig, options: SessionOptions<object>): Session {
    return new Session(handle, this.tools, (options.handlers ?? {}) as Handlers, limits, options.outputSchema, options.check, this, options as SessionOptions, config);
  }

  /** The SHA-256 of the build's guest.wasm: what a checkpoint is bound to. */
  get guestSha256(): string {
    return this.manifest.files['guest.wasm']!;
  }

  /** @internal what Session.checkpoint needs from its guest. */
  checkpointContext(): { base: SharedArrayBuffer; guestSha256: string; key?: string } {
    this.base ??= this.setup.parking?.image ?? shared(initialMemory(readFileSync(join(this.dir, 'guest.wasm'))));
    return { base: this.base, guestSha256: this.guestSha256, ...(this.checkpointKey !== undefined ? { key: this.checkpointKey } : {}) };
  }

  private async configuredWorker(options: SessionOptions<object>): Promise<{ handle: WorkerHandle; limits: Required<Limits>; config: WorkerConfig }> {
    const handle = this.pool.shift() ?? this.spawn();
    await handle.ready;
    const limits: Required<Limits> = { ...DEFAULT_LIMITS, ...options.limits };
    const config: WorkerConfig = {
      memoryLimitBytes: Math.round(limits.memoryMb * 1024 * 1024),
      maxOutputBytes: limits.maxOutputBytes,
      workspaceLimitBytes: Math.round(limits.workspaceMb * 1024 * 1024),
      maxCallBytes: limits.maxCallBytes,
      ...(options.workspace !== undefined ? { workspaceDir: options.workspace } : {}),
    };
    await request(handle, { t: 'configure', config }, 'configured', (e) => new GuestLoadError(`cannot start the session: ${e}`));
    return { handle, limits, config };
  }

  /** Resolves once the warm workers are instantiated (createSession is then at its fastest). */
  async ready(): Promise<void> {
    await Promise.all(this.pool.map((h) => h.ready));
  }

  /** Stops the warm workers; sessions already made go on until closed. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.trimTimer) clearTimeout(this.trimTimer);
    const idle = this.pool.splice(0);
    await Promise.all(idle.map((h) => h.worker.terminate()));
  }
}

/** Reads `dir` (the output of `tic build`) and compiles its guest, once per process. */
export async function loadGuest(dir: string, options: LoadOptions = {}): Promise<Guest> {
  const script = workerScript();
  // The first warm worker starts before anything is read: its thread boots (25-35 ms) while
  // this one reads and compiles the guest, which it gets as messages ('setup', 'module').
  const warm = options.warm ?? 1;
  const early = warm > 0 ? spawnWorker(undefined, script) : undefined;
  const booted = early && bootedOf(early.worker);
  try {
    const b = readBuildDir(dir);
    holdCacheEntry(dir); // a build in the cache (tic serve's, say) stays while this process may read it again
    const lib: Record<string, SharedArrayBuffer> = { 'python311.zip': shared(readFileSync(b.stdlibPath)) };
    for (const [rel, file] of Object.entries({ ...b.sdkFiles, ...b.libFiles })) lib[rel] = shared(readFileSync(file));
    // Its mutable globals exported, so that a checkpoint (and a park) can read and restore
    // them. Parking needs the memory imported and shared (split-image.ts), made once per
    // guest file and cached; the module to compile is then also a third of the bytes.
    const parkable = options.park === false ? undefined : loadParkable(b.wasmPath, cacheRoot());
    // One synchronous read: fs/promises takes 512 KiB chunks through the thread pool, slower
    // on a busy machine than blocking this thread for the whole file once.
    const { wasm, globals } = parkable ? { wasm: parkable.code, globals: parkable.globals } : instrumentGlobals(readFileSync(b.wasmPath));
    const setup: Omit<GuestSetup, 'module'> = { snapshot: b.manifest.snapshot, lib, globals, ...(parkable ? { parking: parkable.parking } : {}) };
    early?.worker.postMessage({ t: 'setup', setup } satisfies ToWorker);
    // V8's flags for the guest count when it compiles the module too, but a worker that boots
    // while they are changed boots twice as slowly (v8-tuning.ts): this one boots first.
    await booted;
    tuneV8ForGuest();
    const module = await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
    early?.worker.postMessage({ t: 'module', module } satisfies ToWorker);
    return new Guest(dir, b.manifest, new ToolTable(b.tools, prebuiltValidators(dir, (m) => process.emitWarning(m, 'TooliscodeWarning'))), { ...setup, module }, script, warm, options.checkpointKey ?? process.env.TIC_CHECKPOINT_KEY, early ? [early] : []);
  } catch (err) {
    await early?.worker.terminate();
    throw err;
  }
}
