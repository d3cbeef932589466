// The worker thread of one session: it owns the guest instance and runs its cells. The
// guest blocks this thread (never the host's event loop) while it computes, sleeps or
// waits for a handler; see session-protocol.ts for how it talks to the main thread.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { decodeCheckpoint, encodeCheckpoint, PAGE } from './checkpoint.js';
import { checkRequest } from './host-calls.js';
import { GuestCrash, GuestInstance } from './instance.js';
import { Ctl, DATA_BYTES, type FromWorker, type GuestSetup, type ParkedGuest, type ParkingSetup, type ToWorker, type WorkerConfig, type WorkerSetup, nextSeq, SpinWatch, takePortMessage, WatchOrPark } from './session-protocol.js';
import { applyQuota, makeDir } from './wasi/memfs.js';
import { IMAGE_PAGE } from './split-image.js';
import { openWorkspace } from './workspace.js';
import { builtin } from './builtins.js';

const setup = workerData as WorkerSetup;
const ctl = new Int32Array(setup.ctl);
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
// zlib (a restore or checkpoint) and crypto (random_get: every session's first cell
// re-seeds `random`) load with the thread, where checkpoint.ts and preview1.ts take them
// lazily for the main entry's sake. (Calls, not `import 'node:zlib'`, which the bundler drops.)
builtin('node:zlib');
builtin('node:crypto');
// And perf_hooks, behind the `performance` global: every tool call reads its clock, and a
// thread's first read loads it (0.6-0.9 ms from the cache now, about 4 ms of a process's
// first tool call after the flags changed).
performance.now();
// Node's own modules are loaded by now, from its code cache: the main thread may change V8's
// flags from here on (a changed flag makes V8 refuse that cache; see v8-tuning.ts).
post({ t: 'booted' });

const requestBuffer = new Uint8Array(setup.request);
const replyBuffer = new Uint8Array(setup.reply);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let seq = 0;
/** A call watches for its reply 50-250 us before it parks (session-protocol.ts). */
const replyWatch = new SpinWatch(0.05, 0.25);
/** Watch for replies at all, or park at once: measured (session-protocol.ts). */
const watchOrPark = new WatchOrPark();
/** How many cells the process runs now (WorkerSetup.running). */
const runningCells = new Int32Array(setup.running);
const replied = () => Atomics.load(ctl, Ctl.REPLY_SEQ) === seq; // made once: it runs on every call
let maxCallBytes = Number.POSITIVE_INFINITY;
/** When the last call returned to the guest (performance.now()), for REQ_THINK. */
let answeredAt = -1;

function hostCall(request: string): string {
  // Hostile input stops here: a request the main thread should not even parse is answered
  // by this thread (the session's own CPU), so the host's event loop never sees it.
  const refused = checkRequest(request, maxCallBytes);
  if (refused !== undefined) return refused;
  seq = nextSeq(seq);
  // A UTF-16 string of n units is at most 3n UTF-8 bytes: small ones go in the buffer.
  const { read, written } = request.length * 3 <= DATA_BYTES ? encoder.encodeInto(request, requestBuffer) : { read: -1, written: 0 };
  if (read === request.length) {
    Atomics.store(ctl, Ctl.REQ_LEN, written);
  } else {
    setup.port.postMessage({ seq, text: request }); // before REQ_SEQ: there when looked for
    Atomics.store(ctl, Ctl.REQ_LEN, -1);
  }
  const sent = performance.now();
  Atomics.store(ctl, Ctl.REQ_THINK, answeredAt < 0 ? -1 : Math.min(0x7fff_ffff, Math.round((sent - answeredAt) * 1000)));
  Atomics.store(ctl, Ctl.REQ_SEQ, seq);
  Atomics.notify(ctl, Ctl.REQ_SEQ);
  // A quick handler answers within microseconds: watching for it a moment costs less than
  // parking this thread and being woken (futex round trip); a slow one finds it parked.
  const solo = Atomics.load(runningCells, 0) <= 1;
  const watch = !solo || watchOrPark.watching; // alone in the process: whether watching pays is measured
  if (!(watch && replyWatch.watch(replied, sent, solo))) {
    // Only our reply ends the wait: any other wake-up (spurious, or a notify that raced
    // with an older reply) reads REPLY_SEQ again and waits again.
    for (let seen = Atomics.load(ctl, Ctl.REPLY_SEQ); seen !== seq; seen = Atomics.load(ctl, Ctl.REPLY_SEQ)) {
      Atomics.wait(ctl, Ctl.REPLY_SEQ, seen);
    }
    replyWatch.waited(performance.now() - sent);
  }
  answeredAt = performance.now();
  const handlerMs = Atomics.load(ctl, Ctl.REPLY_THINK) / 1000;
  replyWatch.own(handlerMs);
  if (solo) watchOrPark.record(answeredAt - sent - handlerMs); // what the choice changes: the crossing
  const length = Atomics.load(ctl, Ctl.REPLY_LEN);
  if (length >= 0) return decoder.decode(replyBuffer.subarray(0, length));
  const reply = takePortMessage(setup.port, seq, receiveMessageOnPort);
  if (reply === undefined) throw new GuestCrash('the host woke the guest without a reply');
  return reply;
}

/** Sleeps `ms`, or less if the main thread asks for an interrupt (INTERRUPT = 1). */
function sleep(ms: number): void {
  const end = performance.now() + ms;
  for (let left = ms; left > 0 && Atomics.load(ctl, Ctl.INTERRUPT) === 0; left = end - performance.now()) {
    Atomics.wait(ctl, Ctl.INTERRUPT, 0, left);
  }
}

/** The most an in-memory workspace may hold for its session to park (see 'park' below). */
const PARK_MAX_WORKSPACE_BYTES = 1 << 20;

/** Bytes the workspace holds (in memory), or has grown by through this session (a host folder). */
let quota = { limit: Number.POSITIVE_INFINITY, used: 0 };
/** A new session's guest, instantiated ahead of it (what makes a session start in ms). */
let fresh: GuestInstance | undefined;
/** The guest of the session this worker serves now, if any. */
let guest: GuestInstance | undefined;

/**
 * Collects this thread's garbage once it has been idle a moment: a guest this thread let
 * go of (parked, or replaced by a fresh one) holds its memory until this isolate's GC
 * drops the last reference, and a shared memory is shared by this thread's objects too, so
 * the main thread's collections alone do not free it. Measured: 300 sessions made, run,
 * checkpointed and closed grew RSS by 237 MB without this, by 31-45 MB with it. A full GC
 * right after each park cost a checkpoint or restore beside it 3-5 ms on 2 cores (restore
 * 12.5 -> 17-18 ms p50), so it waits for 200 ms without another guest let go, or for 8 of
 * them (about 80 MB of memory).
 */
let dropped = 0;
let gcTimer: NodeJS.Timeout | undefined;
function collectSoon(): void {
  if (++dropped >= 8) return fullGc();
  if (gcTimer) clearTimeout(gcTimer);
  gcTimer = setTimeout(fullGc, 200);
  gcTimer.unref();
}
let gcFunction: (() => void) | undefined;
function fullGc(): void {
  dropped = 0;
  if (gcTimer) clearTimeout(gcTimer);
  gcTimer = undefined;
  if (!gcFunction) {
    // `gc` is only made for contexts created while the flag is set: one context, made once,
    // and the flag (process-wide) is unset again so no other context gets it. Another
    // worker doing the same at the same moment can unset it between the two steps here:
    // then there is no `gc` this time (undefined, never a throw) and the next call tries again.
    setFlagsFromString('--expose-gc');
    try {
      gcFunction = runInNewContext('typeof gc === "function" ? gc : undefined') as (() => void) | undefined;
    } catch {
      gcFunction = undefined;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gcFunction?.();
}

/** The guest to instantiate: in workerData, or the first message when this worker started before it was compiled. */
let guestSetup: GuestSetup | undefined;
/** The /lib files, read-only views shared by every guest of this thread. */
let lib: Record<string, Uint8Array> = {};
function setGuest(g: GuestSetup): void {
  guestSetup = g;
  lib = Object.fromEntries(Object.entries(g.lib).map(([k, v]) => [k, new Uint8Array(v)]));
}
/** The guest setup, once known (every message but 'setup' and 'module' comes after 'ready'). */
const gs = (): GuestSetup => guestSetup!;
/** A started worker's setup until its module comes, and the fresh memory made meanwhile. */
let early: { setup: Omit<GuestSetup, 'module'>; memory: WebAssembly.Memory | undefined } | undefined;

/** A fresh guest's memory for a parkable module: the snapshot's non-zero pages copied in (zero pages stay untouched, so not resident). */
function newMemory(p: ParkingSetup | undefined): WebAssembly.Memory | undefined {
  if (!p) return undefined;
  const memory = new WebAssembly.Memory({ initial: p.pages.initial, maximum: p.pages.maximum, shared: true });
  const to = new Uint8Array(memory.buffer);
  const from = new Uint8Array(p.image);
  for (let i = 0; i < p.runs.length; i += 2) to.set(from.subarray(p.runs[i]! * IMAGE_PAGE, p.runs[i + 1]! * IMAGE_PAGE), p.runs[i]! * IMAGE_PAGE);
  return memory;
}

function instantiate(memory = newMemory(gs().parking)): GuestInstance {
  return new GuestInstance(
    { module: gs().module, snapshot: gs().snapshot, lib },
    {
      hostCall,
      // The main thread sets INTERRUPT (1 timeout, 2 cancel); the guest takes it exactly once.
      poll: () => Atomics.exchange(ctl, Ctl.INTERRUPT, 0),
      sleep,
      workspace: makeDir(false),
      maxOutputBytes: Number.POSITIVE_INFINITY, // set per cell below, from the config
      ...(memory ? { memory } : {}),
    },
  );
}

function start(memory?: WebAssembly.Memory): void {
  try {
    fresh ??= instantiate(memory);
    post({ t: 'ready' });
  } catch (err) {
    post({ t: 'crash', message: (err as Error).message });
  }
}
if (setup.guest) {
  setGuest(setup.guest);
  start();
}

/** The session's limits and workspace, on the guest that serves it. */
function configure(g: GuestInstance, config: WorkerConfig): void {
  g.setLimits({ memoryLimitBytes: config.memoryLimitBytes, maxOutputBytes: config.maxOutputBytes });
  maxCallBytes = config.maxCallBytes;
  quota = { limit: config.workspaceLimitBytes, used: 0 };
  applyQuota(g.workspace, quota);
  if (config.workspaceDir !== undefined) g.mountWorkspace(openWorkspace(config.workspaceDir, quota));
}

port.on('message', (msg: ToWorker) => {
  if (msg.t === 'setup') {
    // Copying the snapshot's memory in (8 ms) overlaps the main thread's compile.
    if (!guestSetup) early = { setup: msg.setup, memory: newMemory(msg.setup.parking) };
    return;
  }
  if (msg.t === 'module') {
    if (guestSetup || !early) return;
    setGuest({ ...early.setup, module: msg.module });
    const { memory } = early;
    early = undefined;
    start(memory);
    return;
  }
  if (msg.t === 'reset') {
    // The session ended well or was parked: this thread serves the next one, from a fresh
    // instance of the snapshot with an empty workspace (no thread to start, no allocator churn).
    // A parked guest was let go of (and counted) by 'park' already.
    if (guest) collectSoon();
    guest = undefined;
    quota = { limit: Number.POSITIVE_INFINITY, used: 0 };
    maxCallBytes = Number.POSITIVE_INFINITY;
    start();
    return;
  }
  if (msg.t === 'attach') {
    // A parked session's guest, continued here: its memory as it was left, its globals and
    // its descriptors and in-memory workspace (validated as on a restore).
    try {
      const g = instantiate(msg.parked.memory);
      g.loadState(gs().globals, { pages: msg.parked.memory.buffer.byteLength / PAGE, globals: msg.parked.globals, wasi: msg.parked.wasi }, [], msg.parked.blobs);
      configure(g, msg.config);
      guest = g;
      post({ t: 'configured' });
    } catch (err) {
      post({ t: 'configured', error: (err as Error).message });
    }
    return;
  }
  if (msg.t === 'configure') {
    // A new session takes the fresh guest.
    guest ??= fresh;
    fresh = undefined;
    if (!guest) return post({ t: 'configured', error: 'this worker has no guest' });
    try {
      configure(guest, msg.config);
      post({ t: 'configured' });
    } catch (err) {
      post({ t: 'configured', error: (err as Error).message });
    }
    return;
  }
  if (msg.t === 'park') {
    if (!guest) return post({ t: 'parked', error: 'this worker serves no session' });
    // The in-memory workspace moves with a parked guest as a copy, both ways: measured 2 ms
    // per MB (a 100 MB workspace cost each cell after idle 200 ms, against 1 ms). A session
    // holding more than PARK_MAX_WORKSPACE_BYTES keeps this thread until it holds less.
    if (quota.used > PARK_MAX_WORKSPACE_BYTES) return post({ t: 'parked', error: `the workspace holds ${quota.used} bytes in memory: the session keeps its thread` });
    try {
      const blobs: Uint8Array[] = [];
      const { globals, wasi } = guest.saveState(gs().globals, blobs);
      const bytes = new Uint8Array(blobs.reduce((n, b) => n + b.length, 0));
      let at = 0;
      for (const b of blobs) {
        bytes.set(b, at);
        at += b.length;
      }
      const parked: ParkedGuest = { memory: guest.memory, globals, wasi, blobs: bytes };
      guest = undefined;
      port.postMessage({ t: 'parked', parked } satisfies FromWorker, [bytes.buffer]);
      collectSoon();
    } catch (err) {
      post({ t: 'parked', error: (err as Error).message });
    }
    return;
  }
  if (!guest) return;
  if (msg.t === 'checkpoint') {
    try {
      const blobs: Uint8Array[] = [];
      const { memory, globals, wasi } = guest.saveState(gs().globals, blobs);
      const state = { pages: memory.length / PAGE, globals, wasi, runtime: {} };
      // The memory is read before encodeCheckpoint's first await: a cell may run meanwhile.
      encodeCheckpoint(state, memory, new Uint8Array(msg.base), blobs, msg.guestSha256, msg.key).then(
        (bytes) => port.postMessage({ t: 'checkpointed', bytes } satisfies FromWorker, bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer as ArrayBuffer] : []),
        (err: Error) => post({ t: 'checkpointed', error: err.message }),
      );
    } catch (err) {
      post({ t: 'checkpointed', error: (err as Error).message });
    }
    return;
  }
  if (msg.t === 'restore') {
    const target = guest;
    decodeCheckpoint(msg.checkpoint, msg.guestSha256, msg.key)
      .then(({ state, pages, blobs }) => {
        target.loadState(gs().globals, state, pages, blobs);
        // A fork must not repeat its parent's random numbers.
        if (msg.fresh) target.run('__import__("random").seed()');
        post({ t: 'restored' });
      })
      .catch((err: Error) => {
        // Half-restored memory is no session: this worker is not used again.
        post({ t: 'restored', error: err.message });
        guest = undefined;
      });
    return;
  }
  try {
    // Nothing to sync before or after: a host folder is read and written as the cell goes.
    const { stdout: _stdout, stderr: _stderr, ...result } = guest.run(msg.code, {
      onStdout: (text) => post({ t: 'out', stream: 'stdout', text }),
      onStderr: (text) => post({ t: 'out', stream: 'stderr', text }),
    });
    post({ t: 'done', result });
  } catch (err) {
    post({ t: 'crash', message: (err as Error).message });
    guest = undefined;
  }
});
