// One guest instance: a CPython interpreter in its own WebAssembly instance, with its
// own memory, globals and file system. This layer runs cells synchronously on the
// calling thread; sessions (worker threads, async handlers, limits) build on it.

import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type DirNode, type LazyBytes, makeDir, readonlyTree } from './wasi/memfs.js';
import { syncHostCalls } from './host-calls.js';
import { WasiExit, WasiPreview1 } from './wasi/preview1.js';
import type { Mount } from './wasi/vfs.js';

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

/** Reads and compiles a guest once; instantiate it as often as needed. */
export async function compileGuest(wasmPath: string, lib: Record<string, Uint8Array | LazyBytes>, snapshot: boolean): Promise<GuestImage> {
  const module = await WebAssembly.compile(await readFile(wasmPath));
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
  /** Cap on each cell's stdout + stderr, in bytes; the rest is dropped after a marker. */
  maxOutputBytes?: number;
  /** The tree mounted at /workspace; a fresh empty one by default. */
  workspace?: DirNode;
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
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

export class GuestInstance {
  private readonly exports: GuestExports;
  private readonly wasi: WasiPreview1;
  private hooks: RunHooks = {};
  private out = { stdout: [] as string[], stderr: [] as string[] };
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  private pendingReply: Uint8Array | undefined;
  private dead: string | undefined;
  /** The session's workspace, mounted at /workspace (in memory for now). */
  readonly workspace: DirNode;

  private maxOutputBytes: number;
  private outputBytes = 0;

  constructor(image: GuestImage, options: GuestOptions = {}) {
    const hostCall = options.hostCall ?? noTools;
    this.maxOutputBytes = options.maxOutputBytes ?? Number.POSITIVE_INFINITY;
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
    const instance = new WebAssembly.Instance(image.module, { wasi_snapshot_preview1: this.wasi.imports(), tic });
    this.exports = instance.exports as unknown as GuestExports;
    this.wasi.bind(this.exports.memory);
    if (!image.snapshot) {
      // No snapshot: run the C constructors and boot Python now (what Wizer did at build time).
      this.guarded(() => {
        if (this.exports.tic_init() !== 0) throw new GuestCrash(`Python failed to start:\n${this.out.stderr.join('')}`);
      });
      this.out = { stdout: [], stderr: [] };
    }
    if (options.memoryLimitBytes !== undefined) this.setLimits({ memoryLimitBytes: options.memoryLimitBytes });
  }

  /** Serves /workspace from `root` from now on (a session's host folder: wasi/hostfs.ts). */
  mountWorkspace(root: DirNode | Mount): void {
    this.wasi.remount('/workspace', root);
  }

  /** Changes the limits of later cells (memory: 0 = none; output: bytes per cell). */
  setLimits(limits: { memoryLimitBytes?: number; maxOutputBytes?: number }): void {
    if (limits.maxOutputBytes !== undefined) this.maxOutputBytes = limits.maxOutputBytes;
    if (limits.memoryLimitBytes !== undefined) {
      if (!this.exports.tic_set_memory_limit) throw new GuestCrash('this guest predates memory limits; run tic build again');
      this.exports.tic_set_memory_limit(Math.min(limits.memoryLimitBytes, 0xffff_0000));
    }
  }

  private emit(stream: 'stdout' | 'stderr', bytes: Uint8Array): void {
    // The cap is on bytes, counted before decoding, so the host never holds more.
    const room = this.maxOutputBytes - this.outputBytes;
    if (room <= 0) return;
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.outputBytes += kept.length;
    this.push(stream, this.decoders[stream].decode(kept, { stream: true }));
    if (kept !== bytes) {
      this.push(stream, `${this.decoders[stream].decode()}\n[tooliscode: output truncated after ${this.maxOutputBytes} bytes]\n`);
    }
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

  /** Runs one cell to completion. Globals persist across cells of the same instance. */
  run(code: string, hooks: RunHooks = {}): CellResult {
    this.hooks = hooks;
    this.out = { stdout: [], stderr: [] };
    this.outputBytes = 0;
    try {
      const raw = this.guarded(() => {
        const src = encoder.encode(code);
        const ptr = this.exports.tic_alloc(src.length);
        new Uint8Array(this.exports.memory.buffer, ptr, src.length).set(src);
        const resultPtr = this.exports.tic_run(ptr, src.length);
        this.exports.tic_free(ptr);
        if (resultPtr === 0) throw new GuestCrash(`the guest runtime failed:\n${this.out.stderr.join('')}`);
        return utf8.decode(new Uint8Array(this.exports.memory.buffer, resultPtr, this.exports.tic_result_len()));
      });
      const result = JSON.parse(raw) as Omit<CellResult, 'stdout' | 'stderr'>;
      this.flushDecoders();
      return { ...result, stdout: this.out.stdout.join(''), stderr: this.out.stderr.join('') };
    } finally {
      this.hooks = {};
    }
  }
}
