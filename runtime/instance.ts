// One guest instance: a CPython interpreter in its own WebAssembly instance, with its
// own memory, globals and file system. This layer runs cells synchronously on the
// calling thread; sessions (worker threads, async handlers, limits) build on it.

import { readFileSync, statSync } from 'node:fs';
import { type DirNode, type LazyBytes, makeDir, readonlyTree } from './wasi/memfs.js';
import { syncHostCalls } from './host-calls.js';
import { type SavedWasi, WasiExit, WasiPreview1 } from './wasi/preview1.js';
import { type GlobalSlot, PAGE, globalValues, restoreGlobals } from './snapshot/capture.js';
import { applyPage } from './checkpoint.js';
import type { Mount } from './wasi/vfs.js';
import { loadMemoryImage, splitGuest } from './split-image.js';
import { tuneV8ForGuest } from './v8-tuning.js';

export interface CellError {
  /** Exception class name, qualified by module unless it is a builtin (`ZeroDivisionError`). */
  type: string;
  message: string;
  /** Formatted Python traceback whose frames are the cell's own. */
  traceback: string;
}

export interface CellResult {
  ok: boolean;
  /** repr() of the cell's final expression, when it has one that is not None. */
  value?: string;
  error?: CellError;
  stdout: string;
  stderr: string;
}

export interface RunHooks {
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
}

/** Answers the guest's `tic.call` requests: JSON in, JSON out (runtime/host-calls.ts). */
export type HostCallHandler = (request: string) => string;

export interface GuestImage {
  module: WebAssembly.Module;
  /** True when the module is a Wizer snapshot (Python already booted). */
  snapshot: boolean;
  /**
   * The read-only files under /lib (`python311.zip`, and `sdk/...` for a built guest),
   * shared by every instance; large ones are read on first use.
   */
  lib: Record<string, Uint8Array | LazyBytes>;
  /**
   * When `module` was compiled without its data section (split-image.ts): the file of the
   * memory its data segments make, read into every instance's memory before anything runs.
   */
  memoryImage?: string;
  /** Its non-zero pages (split-image.ts nonZeroRuns): what is read of it. */
  memoryRuns?: number[];
}

/** A file read once, the first time a guest opens it: most cells never leave the snapshot. */
export function lazyFileBytes(path: string): LazyBytes {
  let bytes: Uint8Array | undefined;
  return {
    size: statSync(path).size,
    load: () => (bytes ??= new Uint8Array(readFileSync(path))),
  };
}

export class GuestCrash extends Error {}

/**
 * Reads and compiles a guest once; instantiate it as often as needed. The file is read in
 * one synchronous call: fs/promises reads it in 512 KiB chunks, each a round trip through
 * the thread pool, which on a busy machine took longer than the whole read (tic run).
 */
export async function compileGuest(wasmPath: string, lib: Record<string, Uint8Array | LazyBytes>, snapshot: boolean, options: { splitCacheDir?: string } = {}): Promise<GuestImage> {
  // `splitCacheDir`: compile the module without its data and read its memory image into
  // each instance instead (split-image.ts), cached in this folder.
  tuneV8ForGuest();
  let code: Uint8Array<ArrayBuffer> | undefined;
  let split: ReturnType<typeof splitGuest>;
  try {
    split = options.splitCacheDir !== undefined ? splitGuest(wasmPath, options.splitCacheDir) : undefined;
    if (split) code = readFileSync(split.codePath) as Uint8Array<ArrayBuffer>;
  } catch {
    code = undefined; // compiled whole, as without the option
  }
  if (code && split) return { module: await WebAssembly.compile(code), snapshot, lib, memoryImage: split.memoryPath, memoryRuns: split.runs };
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  return { module, snapshot, lib };
}

/** The default host: every tool call fails, as this guest has no tools. */
const noTools: HostCallHandler = syncHostCalls((req) => ({
  ok: false,
  error: { kind: 'tool', type: 'ToolNotFound', message: `no tool named ${JSON.stringify(req.tool)}: this guest has no tools` },
}));

export interface GuestOptions {
  /** Answers the SDK's requests (see runtime/host-calls.ts); by default there are no tools. */
  hostCall?: HostCallHandler;
  /** Asked every few thousand bytecodes: 1 interrupts the running cell with TimeoutError, 2 with KeyboardInterrupt (a cancel). */
  poll?: () => number;
  /** How the guest sleeps (time.sleep, asyncio timers); wake early to interrupt. */
  sleep?: (ms: number) => void;
  /** Cap on the guest's linear memory, in bytes: beyond it Python raises MemoryError. */
  memoryLimitBytes?: number;
  /**
   * Cap on each cell's stdout + stderr, in UTF-8 bytes; the rest is dropped after a marker.
   * The guest cuts the cell's value, its error message and its traceback to the same cap
   * (each on its own), before they leave the guest.
   */
  maxOutputBytes?: number;
  /** The tree mounted at /workspace; a fresh empty one by default. */
  workspace?: DirNode;
  /** The guest's memory, for a module that imports it (a parked session's: see park.ts). */
  memory?: WebAssembly.Memory;
}

interface GuestExports {
  memory: WebAssembly.Memory;
  tic_init(): number;
  tic_alloc(size: number): number;
  tic_free(ptr: number): void;
  tic_run(ptr: number, len: number): number;
  tic_result_len(): number;
  /** Missing from guests built before memory limits existed. */
  tic_set_memory_limit?(bytes: number): void;
  /** Missing from guests built before the value and error text were capped. */
  tic_set_output_limit?(bytes: number): void;
}

/** The guest's "no cap" for tic_set_output_limit (UINT32_MAX). */
const NO_OUTPUT_LIMIT = 0xffff_ffff;

/** The marker that ends output cut at the cap; the guest writes the same words after a cut value. */
export const truncationMarker = (limit: number) => `[tooliscode: output truncated after ${limit} bytes]`;

/**
 * The longest JSON result the host decodes for a cap of `limit` bytes per part: value,
 * message and traceback each cut to it (plus the marker), a type name of up to 1 KiB, and
 * JSON escaping, which can make one byte six (`\u0001`). A longer result is refused unread:
 * the guest's runtime did not cap it (a cell broke `_tic`, or an old guest).
 */
export function maxResultBytes(limit: number): number {
  return 6 * (3 * (limit + 64) + 1024 + 64) + 1024;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

export class GuestInstance {
  private readonly instance: WebAssembly.Instance;
  private readonly exports: GuestExports;
  private readonly wasi: WasiPreview1;
  private hooks: RunHooks = {};
  private out = { stdout: [] as string[], stderr: [] as string[] };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  private pendingReply: Uint8Array | undefined;
  private dead: string | undefined;
  /** The session's workspace, mounted at /workspace (in memory for now). */
  readonly workspace: DirNode;

  private maxOutputBytes = Number.POSITIVE_INFINITY;
  private outputBytes = 0;
  /** The cell's output reached the cap and more came: the rest is dropped, the marker is out. */
  private truncated = false;

  constructor(image: GuestImage, options: GuestOptions = {}) {
    const hostCall = options.hostCall ?? noTools;
    this.workspace = options.workspace ?? makeDir(false);
    this.wasi = new WasiPreview1({
      // Same order as at snapshot time: the snapshot remembers fd 3 and fd 4.
      preopens: [
        { guestPath: '/lib', root: readonlyTree(image.lib) },
        { guestPath: '/workspace', root: this.workspace },
      ],
      stdout: (bytes) => this.emit('stdout', bytes),
      stderr: (bytes) => this.emit('stderr', bytes),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    const poll = options.poll ?? (() => 0);
    const tic = {
      call: (ptr: number, len: number): number => {
        const request = utf8.decode(new Uint8Array(this.exports.memory.buffer, ptr, len));
        this.pendingReply = encoder.encode(hostCall(request));
        return this.pendingReply.length;
      },
      reply: (dst: number): void => {
        const reply = this.pendingReply;
        if (!reply) throw new GuestCrash('tic.reply without a pending reply');
        new Uint8Array(this.exports.memory.buffer, dst, reply.length).set(reply);
        this.pendingReply = undefined;
      },
      poll: (): number => poll(),
    };
    const instance = new WebAssembly.Instance(image.module, { wasi_snapshot_preview1: this.wasi.imports(), tic, ...(options.memory ? { env: { memory: options.memory } } : {}) });
    this.instance = instance;
    this.exports = instance.exports as unknown as GuestExports;
    if (image.memoryImage !== undefined) loadMemoryImage(this.exports.memory, image.memoryImage, image.memoryRuns);
    this.wasi.bind(this.exports.memory);
    if (!image.snapshot) {
      // No snapshot: run the C constructors and boot Python now (what Wizer did at build time).
      this.guarded(() => {
        if (this.exports.tic_init() !== 0) throw new GuestCrash(`Python failed to start:\n${this.out.stderr.join('')}`);
      });
      this.out = { stdout: [], stderr: [] };
    }
    this.setLimits({
      ...(options.memoryLimitBytes !== undefined ? { memoryLimitBytes: options.memoryLimitBytes } : {}),
      ...(options.maxOutputBytes !== undefined ? { maxOutputBytes: options.maxOutputBytes } : {}),
    });
  }

  /** The guest's linear memory (shared when the module imports it: a parkable guest). */
  get memory(): WebAssembly.Memory {
    return this.exports.memory;
  }

  /** Serves /workspace from `root` from now on (a session's host folder: wasi/hostfs.ts). */
  mountWorkspace(root: DirNode | Mount): void {
    this.wasi.remount('/workspace', root);
  }

  /**
   * Changes the limits of later cells (memory: 0 = none; output: UTF-8 bytes per cell for
   * stdout + stderr, and per part for the value, the error message and the traceback).
   */
  setLimits(limits: { memoryLimitBytes?: number; maxOutputBytes?: number }): void {
    if (limits.maxOutputBytes !== undefined) {
      if (!(limits.maxOutputBytes >= 0)) throw new RangeError(`maxOutputBytes must be 0 or more, not ${limits.maxOutputBytes}`);
      this.maxOutputBytes = limits.maxOutputBytes;
      // An old guest has no guest-side cap: run() still refuses a result over the cap + slack.
      this.exports.tic_set_output_limit?.(Math.min(Math.floor(limits.maxOutputBytes), NO_OUTPUT_LIMIT));
    }
    if (limits.memoryLimitBytes !== undefined) {
      if (!this.exports.tic_set_memory_limit) throw new GuestCrash('this guest predates memory limits; run tic build again');
      this.exports.tic_set_memory_limit(Math.min(limits.memoryLimitBytes, 0xffff_0000));
    }
  }

  private emit(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    // The cap is on UTF-8 bytes, counted before decoding, so the host never holds more.
    if (this.truncated || bytes.length === 0) return;
    const room = this.maxOutputBytes - this.outputBytes;
    if (bytes.length <= room) {
      this.outputBytes += bytes.length;
      this.push(stream, this.decoders[stream].decode(bytes, { stream: true }));
      return;
    }
    // Over the cap (also when it was reached exactly before, or is 0): cut before the
    // character the cap falls in, never through it, and say so once.
    let cut = Math.max(0, Math.floor(room));
    while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
    this.truncated = true;
    this.outputBytes += cut;
    const kept = this.decoders[stream].decode(bytes.subarray(0, cut), { stream: true });
    // A new decoder drops the start of a character an earlier write began and this one
    // would have ended: it is past the cap (flushing it would add a U+FFFD).
    this.decoders[stream] = new TextDecoder();
    this.push(stream, `${kept}\n${truncationMarker(this.maxOutputBytes)}\n`);
  }

  private push(stream: 'stdout' | 'stderr', text: string): void {
    if (!text) return;
    this.out[stream].push(text);
    (stream === 'stdout' ? this.hooks.onStdout : this.hooks.onStderr)?.(text);
  }

  /** Ends the cell's output: bytes of a split UTF-8 character left over become U+FFFD. */
  private flushDecoders(): void {
    for (const s of ['stdout', 'stderr'] as const) this.push(s, this.decoders[s].decode());
  }

  private guarded<T>(fn: () => T): T {
    if (this.dead) throw new GuestCrash(this.dead);
    try {
      return fn();
    } catch (err) {
      this.dead =
        err instanceof WasiExit
          ? `the guest exited (code ${err.code}); this session is over`
          : `the guest crashed: ${(err as Error).message}; this session is over`;
      throw new GuestCrash(this.dead);
    }
  }

  /**
   * The guest between cells, for a checkpoint: its linear memory (a view, valid until the
   * guest runs again), its mutable globals (`globals`: the slots instrumentGlobals exported)
   * and the WASI state, whose files go into `blobs`.
   */
  saveState(globals: GlobalSlot[], blobs: Uint8Array[]): { memory: Uint8Array; globals: (number | string)[]; wasi: SavedWasi } {
    if (this.dead) throw new GuestCrash(this.dead);
    const values = globalValues(this.instance, globals);
    return {
      memory: new Uint8Array(this.exports.memory.buffer),
      globals: values.map((v) => (typeof v === 'bigint' ? v.toString() : v)),
      wasi: this.wasi.saveState(blobs),
    };
  }

  /**
   * Continues from a checkpoint: this instance must be fresh from the same snapshot. The
   * memory grows to `pages`, the changed pages are written, the globals and the WASI state
   * restored. `wasi` is validated as hostile input (WasiStateError/TreeStateError).
   */
  loadState(globals: GlobalSlot[], state: { pages: number; globals: (number | string)[]; wasi: unknown }, pages: { index: number; bytes: Uint8Array }[], blobs: Uint8Array): void {
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength / PAGE;
    if (state.pages < have) throw new GuestCrash(`the checkpoint's memory (${state.pages} pages) is smaller than a fresh guest's (${have})`);
    if (state.pages > have) memory.grow(state.pages - have);
    const view = new Uint8Array(memory.buffer);
    for (const p of pages) applyPage(view, p.index, p.bytes);
    if (state.globals.length !== globals.length) throw new GuestCrash(`the checkpoint has ${state.globals.length} globals, this guest ${globals.length}`);
    restoreGlobals(this.instance, globals, state.globals.map((v, i) => (globals[i]!.type === 'i64' ? BigInt(v) : Number(v))));
    this.wasi.loadState(state.wasi, blobs);
  }

  /** Runs one cell to completion. Globals persist across cells of the same instance. */
  run(code: string, hooks: RunHooks = {}): CellResult {
    this.hooks = hooks;
    this.out = { stdout: [], stderr: [] };
    this.outputBytes = 0;
    this.truncated = false;
    try {
      const raw = this.guarded(() => {
        const src = encoder.encode(code);
        const ptr = this.exports.tic_alloc(src.length);
        // malloc failed (the cell before filled the memory cap): writing at 0 would corrupt the guest.
        if (ptr === 0) return undefined;
        new Uint8Array(this.exports.memory.buffer, ptr, src.length).set(src);
        const resultPtr = this.exports.tic_run(ptr, src.length);
        this.exports.tic_free(ptr);
        if (resultPtr === 0) throw new GuestCrash(`the guest runtime failed:\n${this.out.stderr.join('')}`);
        const length = this.exports.tic_result_len();
        // Last line of defence: a result the guest did not cap is refused, never decoded.
        if (length > maxResultBytes(this.maxOutputBytes)) return { length };
        return utf8.decode(new Uint8Array(this.exports.memory.buffer, resultPtr, length));
      });
      const result = readResult(raw, this.maxOutputBytes);
      this.flushDecoders();
      return { ...result, stdout: this.out.stdout.join(''), stderr: this.out.stderr.join('') };
    } finally {
      this.hooks = {};
    }
  }
}

const failure = (type: string, message: string): Omit<CellResult, 'stdout' | 'stderr'> => ({ ok: false, error: { type, message, traceback: '' } });

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * The guest's JSON result, checked: the guest is not trusted to keep to its format, and a
 * result that breaks it fails the cell (the session goes on), never the host.
 */
function readResult(raw: string | { length: number } | undefined, limit: number): Omit<CellResult, 'stdout' | 'stderr'> {
  if (raw === undefined) return failure('MemoryError', "the guest has no memory left for the cell's source; free some (del) or restart the session");
  if (typeof raw !== 'string') {
    return failure('ResultTooLarge', `the cell's result was ${raw.length} bytes, over what the output cap of ${limit} bytes allows; it was dropped`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return failure('MalformedResult', 'the guest runtime returned a result that is not JSON');
  }
  const r = parsed as { ok?: unknown; value?: unknown; error?: { type?: unknown; message?: unknown; traceback?: unknown } | null };
  if (typeof parsed !== 'object' || parsed === null || typeof r.ok !== 'boolean') return failure('MalformedResult', 'the guest runtime returned a result without "ok"');
  if (r.ok) {
    if (r.value !== undefined && !isString(r.value)) return failure('MalformedResult', 'the guest runtime returned a value that is not a string');
    return r.value === undefined ? { ok: true } : { ok: true, value: r.value };
  }
  const e = r.error;
  if (typeof e !== 'object' || e === null || !isString(e.type) || !isString(e.message) || !isString(e.traceback)) {
    return failure('MalformedResult', 'the guest runtime returned an error without type, message and traceback');
  }
  return { ok: false, error: { type: e.type, message: e.message, traceback: e.traceback } };
}
