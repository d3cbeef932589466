// The embedding API: `loadGuest(dir)` reads and compiles the output of `tic build` once
// per process; `guest.createSession()` starts an isolated session from it.

import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../compiler/build.js';
import { GuestLoadError, readBuildDir } from './load.js';
import { packageRoot } from './package-root.js';
import type { FromWorker } from './session-protocol.js';
import { type Handlers, type Limits, DEFAULT_LIMITS, Session, type SessionOptions, type WorkerHandle, spawnWorker } from './session.js';
import { ToolTable } from './tools.js';

export interface LoadOptions {
  /**
   * Workers kept instantiated and ready, so that createSession only hands one over
   * (default 1; 0 starts every session cold). Idle workers never keep the process alive.
   */
  warm?: number;
}

/** Bytes every worker of the process reads without copying. */
function shared(bytes: Uint8Array): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(bytes.length);
  new Uint8Array(sab).set(bytes);
  return sab;
}

export class Guest {
  private readonly pool: WorkerHandle[] = [];
  private readonly script = new URL(`file://${join(packageRoot(), 'build', 'runtime', 'session-worker.js')}`);

  /** @internal use loadGuest */
  constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly tools: ToolTable,
    private readonly module: WebAssembly.Module,
    private readonly lib: Record<string, SharedArrayBuffer>,
    private readonly warm: number,
  ) {
    if (!existsSync(this.script.pathname)) throw new GuestLoadError(`${this.script.pathname} is missing: run npm run build`);
    this.refill();
  }

  private spawn(): WorkerHandle {
    return spawnWorker({ module: this.module, snapshot: this.manifest.snapshot, lib: this.lib }, this.script);
  }

  private refill(): void {
    while (this.pool.length < this.warm) {
      const handle = this.spawn();
      handle.worker.once('exit', () => {
        const i = this.pool.indexOf(handle);
        if (i >= 0) this.pool.splice(i, 1);
      });
      this.pool.push(handle);
    }
  }

  /** Starts a session: a fresh guest of its own, from the snapshot. */
  async createSession<H extends object = Handlers>(options: SessionOptions<H> = {}): Promise<Session> {
    const handle = this.pool.shift() ?? this.spawn();
    this.refill();
    await handle.ready;
    const limits: Required<Limits> = { ...DEFAULT_LIMITS, ...options.limits };
    const configured = new Promise<void>((resolve, reject) => {
      const onMessage = (m: FromWorker) => {
        if (m.t !== 'configured') return;
        handle.worker.off('message', onMessage);
        if (m.error) reject(new GuestLoadError(`cannot start the session: ${m.error}`));
        else resolve();
      };
      handle.worker.on('message', onMessage);
    });
    handle.worker.postMessage({
      t: 'configure',
      config: {
        memoryLimitBytes: Math.round(limits.memoryMb * 1024 * 1024),
        maxOutputBytes: limits.maxOutputBytes,
        workspaceLimitBytes: Math.round(limits.workspaceMb * 1024 * 1024),
        maxCallBytes: limits.maxCallBytes,
        ...(options.workspace !== undefined ? { workspaceDir: options.workspace } : {}),
      },
    });
    try {
      await configured;
    } catch (err) {
      await handle.worker.terminate();
      throw err;
    }
    return new Session(handle, this.tools, (options.handlers ?? {}) as Handlers, limits, options.outputSchema, options.check);
  }

  /** Resolves once the warm workers are instantiated (createSession is then at its fastest). */
  async ready(): Promise<void> {
    await Promise.all(this.pool.map((h) => h.ready));
  }

  /** Stops the warm workers; sessions already made go on until closed. */
  async close(): Promise<void> {
    const idle = this.pool.splice(0);
    await Promise.all(idle.map((h) => h.worker.terminate()));
  }
}

/** Reads `dir` (the output of `tic build`) and compiles its guest, once per process. */
export async function loadGuest(dir: string, options: LoadOptions = {}): Promise<Guest> {
  const b = readBuildDir(dir);
  const lib: Record<string, SharedArrayBuffer> = { 'python311.zip': shared(readFileSync(b.stdlibPath)) };
  for (const [rel, file] of Object.entries({ ...b.sdkFiles, ...b.libFiles })) lib[rel] = shared(readFileSync(file));
  const module = await WebAssembly.compile(await readFile(b.wasmPath));
  return new Guest(dir, b.manifest, new ToolTable(b.tools), module, lib, options.warm ?? 1);
}
