// The build's snapshot, taken by tooliscode itself (what Wizer did): the guest is
// instantiated under the runtime's own WASI with the mounts a session has, its
// initialization export runs (boots Python, imports the preloaded modules and the SDK),
// and the state is captured and written as a new module (capture.ts).
//
// Reproducible: nothing of the host reaches the image. The guest's shim fixes its clock
// and randomness while snapshotting (tic_snapshot_init); the WASI below does the same at
// its level anyway (so the capture does not depend on the shim for it), gives no
// arguments and an empty environment, fixed file times, and the /lib tree in sorted
// order. What is outside linear memory and globals must not matter: after the init only
// the preopens may be open, which is checked.

import { type LazyBytes, makeDir, readonlyTree } from '../wasi/memfs.js';
import { WasiPreview1 } from '../wasi/preview1.js';
import { capture, instrumentGlobals, writeSnapshot } from './capture.js';
import { Reader, SectionId, findSection, readSections } from './wasm-binary.js';

/**
 * Names the snapshot writer in cache keys and manifests. Bump it with any change that
 * changes its output for the same input (capture.ts, wasm-binary.ts, this file);
 * capture.test.ts pins the output of a small module to catch a change left unbumped.
 */
export const SNAPSHOT_WRITER = 'tic-snapshot/2';

/** The export the guest's shim offers for a snapshot (deterministic clock and randomness inside). */
export const SNAPSHOT_INIT_EXPORT = 'tic_snapshot_init';

export class SnapshotError extends Error {}

/** File times while snapshotting: 2001-09-09, as the Wizer step set them with utimes. */
const FIXED_TIME_NS = 1_000_000_000n * 1_000_000_000n;

export interface SnapshotStats {
  memoryBytes: number;
  segments: number;
  outputBytes: number;
  initMs: number;
  writeMs: number;
}

export interface InitializeOptions {
  /** The guest to initialize (core.wasm: CPython + shim, not initialized). */
  wasm: Uint8Array;
  /** The read-only files under /lib: `python311.zip`, `sdk/...`, packages. */
  lib: Record<string, Uint8Array | LazyBytes>;
  /** Default: tic_snapshot_init. Removed from the output. */
  initExport?: string;
}

/**
 * Boots the guest under the runtime's WASI, runs its initialization and returns the
 * snapshot module's bytes. The mounts are a session's: /lib (fd 3) then /workspace (fd 4,
 * empty), in that order, which the snapshot pins.
 */
export async function initializeAndSnapshot(options: InitializeOptions): Promise<{ wasm: Uint8Array; stats: SnapshotStats }> {
  const initExport = options.initExport ?? SNAPSHOT_INIT_EXPORT;
  const started = performance.now();
  const { wasm: instrumented, globals } = instrumentGlobals(options.wasm);
  const module = await WebAssembly.compile(instrumented as Uint8Array<ArrayBuffer>);

  const lib: Record<string, Uint8Array | LazyBytes> = {};
  for (const key of Object.keys(options.lib).sort()) lib[key] = options.lib[key]!;
  const output: string[] = [];
  const text = new TextDecoder();
  const wasi = new WasiPreview1({
    args: [],
    env: {},
    preopens: [
      { guestPath: '/lib', root: readonlyTree(lib) },
      { guestPath: '/workspace', root: makeDir(false) },
    ],
    stdout: (b) => output.push(text.decode(b, { stream: true })),
    stderr: (b) => output.push(text.decode(b, { stream: true })),
    // Nothing sleeps during the init; if something did, it must not wait.
    sleep: () => {},
  });
  let memory: WebAssembly.Memory | undefined;
  const view = () => new DataView(memory!.buffer);
  const base = wasi.imports() as unknown as Record<string, (...args: number[]) => number>;
  // A fixed stream and a fixed clock, as the shim's own (splitmix64; not for secrets).
  let rng = 0x746f6f6c6973636fn;
  let clockNs = FIXED_TIME_NS;
  const fixedTimes = (ptr: number) => {
    const v = view();
    v.setBigUint64(ptr, 0n, true); // dev
    v.setBigUint64(ptr + 8, 0n, true); // ino
    for (const at of [40, 48, 56]) v.setBigUint64(ptr + at, FIXED_TIME_NS, true);
  };
  const overrides: Record<string, (...args: never[]) => number> = {
    clock_time_get: (_id: number, _precision: bigint, ptr: number) => {
      clockNs += 1000n;
      view().setBigUint64(ptr, clockNs, true);
      return 0;
    },
    random_get: (ptr: number, len: number) => {
      const bytes = new Uint8Array(memory!.buffer, ptr, len);
      for (let i = 0; i < len; i++) {
        rng = BigInt.asUintN(64, rng + 0x9e3779b97f4a7c15n);
        let z = rng;
        z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
        z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
        bytes[i] = Number((z ^ (z >> 31n)) & 0xffn);
      }
      return 0;
    },
    fd_filestat_get: (fd: number, ptr: number) => {
      const err = base.fd_filestat_get!(fd, ptr);
      if (err === 0) fixedTimes(ptr);
      return err;
    },
    path_filestat_get: (fd: number, flags: number, path: number, len: number, ptr: number) => {
      const err = base.path_filestat_get!(fd, flags, path, len, ptr);
      if (err === 0) fixedTimes(ptr);
      return err;
    },
  };
  // The runtime's import object is a Proxy (unlisted imports answer ENOSYS): keep it one.
  const wasiImports = new Proxy(base, { get: (target, name: string) => overrides[name] ?? target[name] });
  const trap = (name: string) => () => {
    throw new SnapshotError(`the guest called the host (tic.${name}) during its initialization`);
  };
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasiImports, tic: { call: trap('call'), reply: trap('reply'), poll: () => 0 } });
  } catch (err) {
    throw new SnapshotError(`cannot instantiate the guest for its snapshot: ${(err as Error).message}`);
  }
  memory = instance.exports.memory as WebAssembly.Memory;
  wasi.bind(memory);
  const init = instance.exports[initExport];
  if (typeof init !== 'function') throw new SnapshotError(`the guest has no export ${initExport}`);
  try {
    (init as () => void)();
  } catch (err) {
    throw new SnapshotError(`the guest's initialization failed: ${(err as Error).message}\n${output.join('')}`.trimEnd());
  }
  const state = capture(instance, globals);
  const initMs = performance.now() - started;

  // Only the preopens may be open: a descriptor left open would be missing from every
  // session (the WASI state is not in the image). Probed after the capture, so the
  // scratch bytes written at address 0 are not in it.
  const open: number[] = [];
  for (let fd = 0; fd < 1024; fd++) if (base.fd_fdstat_get!(fd, 0) === 0) open.push(fd);
  if (open.join(',') !== '0,1,2,3,4') throw new SnapshotError(`the guest's initialization left descriptors open (${open.join(', ')}); only stdio, /lib and /workspace may be`);

  const t = performance.now();
  // Written from the instrumented module: the snapshot keeps its globals exported, so a
  // checkpoint reads them and loadGuest has nothing to rewrite (instrumentGlobals is then a no-op).
  const wasm = writeSnapshot(instrumented, state, globals, { removeExports: [initExport] });
  const writeMs = performance.now() - t;
  const segments = countSegments(wasm);
  return { wasm, stats: { memoryBytes: state.memory.length, segments, outputBytes: wasm.length, initMs, writeMs } };
}

function countSegments(wasm: Uint8Array): number {
  const data = findSection(readSections(wasm), SectionId.data);
  return data ? new Reader(data.payload).u32() : 0;
}
