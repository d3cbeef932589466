// The call bridge between a session (main thread, session.ts) and its worker
// (session-worker.ts). The worker runs the guest synchronously; a host call from the guest
// blocks the worker (never the main thread) until the main thread's handler has replied.
//
// Who writes what (each slot and each buffer has exactly one writer):
//
//   worker  REQ_LEN, the request buffer, then REQ_SEQ = seq      (publishes request `seq`)
//   main    REPLY_LEN, the reply buffer, then REPLY_SEQ = seq    (publishes its reply)
//   main    INTERRUPT = 1 (a timeout) or 2 (a cancel); the worker takes it back to 0 (Atomics.exchange)
//
// One call, seen from both sides:
//
//   1. worker: seq = previous seq + 1. The request goes into the request buffer
//      (REQ_LEN = bytes) or, too big for it, as `{seq, text}` on the bridge port
//      (REQ_LEN = -1), posted BEFORE step 2 so that it is there when the main thread looks;
//      REQ_THINK = microseconds since the last reply (the guest's own time).
//   2. worker: REQ_SEQ = seq, notify REQ_SEQ; watches REPLY_SEQ a moment (SpinWatch), then
//      loops `Atomics.wait(REPLY_SEQ, seen)` until REPLY_SEQ == seq. Any other wake-up
//      (spurious, an old reply) waits again.
//   3. main: parked in `Atomics.waitAsync(REQ_SEQ, lastSeq)` (one at a time), or, right
//      after replying to a call, watching REQ_SEQ a moment; when REQ_SEQ != lastSeq it
//      takes request REQ_SEQ once (lastSeq = it), reads REQ_LEN and the buffer, or takes
//      `{seq, text}` messages from the port until the one with this seq. Requests taken by
//      watching run in microtasks; after 2 ms of them the next waits for the event loop.
//   4. main: the call's reply is written only if the guest still waits for exactly this
//      seq (`pending`); a reply for a call that timed out, or a second reply, is dropped.
//      The reply goes into the reply buffer (REPLY_LEN) or as `{seq, text}` on the port
//      (REPLY_LEN = -1, posted first); REPLY_THINK = microseconds since the request was
//      taken (the handler's own time); then REPLY_SEQ = seq, notify REPLY_SEQ.
//   5. worker: reads REPLY_LEN and the reply buffer, or takes port messages until the one
//      with its seq (older ones are dropped).
//
// The worker writes the request buffer only while no call is pending (before step 2), and
// the main thread writes the reply buffer only for the pending seq, after which the worker
// reads it before it can publish another request: no buffer is ever written while read.
// Sequence numbers run 1..2^31-1 and wrap to 1; 0 means "none yet".

import type { MessagePort } from 'node:worker_threads';
import type { CellResult } from './instance.js';
import type { GlobalSlot } from './snapshot/capture.js';

/** Int32 slots of the shared control array. */
export const Ctl = {
  /** Seq of the last request the worker published. */
  REQ_SEQ: 0,
  /** Seq of the last reply the main thread published. */
  REPLY_SEQ: 1,
  /** 1 asks the running cell to stop with TimeoutError, 2 with KeyboardInterrupt (a cancel); the guest consumes it. */
  INTERRUPT: 2,
  /** Bytes of the request in the request buffer; -1: it came on the port. */
  REQ_LEN: 3,
  /** Bytes of the reply in the reply buffer; -1: it came on the port. */
  REPLY_LEN: 4,
  /**
   * Microseconds the guest ran between its last reply and this request (-1: none before it):
   * how soon after a reply the main thread can expect the next request (SpinWatch).
   */
  REQ_THINK: 5,
  /**
   * Microseconds the main thread took from taking this reply's request to replying (its
   * handler, not how long it took to notice the request): whether the worker's watch for
   * a reply is worth it (SpinWatch).
   */
  REPLY_THINK: 6,
  SIZE: 7,
} as const;

/** Bytes of each shared buffer (request and reply) of a session (allocated lazily by the OS). */
export const DATA_BYTES = 1 << 20;

/** The seq after `seq` (int32, never 0). */
export const nextSeq = (seq: number): number => (seq >= 0x7fff_ffff ? 1 : seq + 1);

/** A request or reply too big for its buffer, on the bridge port. */
export interface PortMessage {
  seq: number;
  text: string;
}

/** What a worker instantiates its guests from. */
export interface GuestSetup {
  module: WebAssembly.Module;
  snapshot: boolean;
  /** /lib files, shared read-only by every worker of the process. */
  lib: Record<string, SharedArrayBuffer>;
  /** The guest's mutable globals, exported by instrumentGlobals (what a checkpoint reads and restores). */
  globals: GlobalSlot[];
  /**
   * Set when `module` imports a shared memory (split-image.ts parkableModule): each guest's
   * memory is made here from `image` (its non-zero pages: `runs`, [first, end) page pairs,
   * 4 KiB pages) and a session's guest can be parked and attached again on any worker.
   */
  parking?: ParkingSetup;
}

export interface WorkerSetup {
  /** Missing when the worker was started before its guest was read and compiled: it comes in the first messages ('setup', then 'module'). */
  guest?: GuestSetup;
  ctl: SharedArrayBuffer;
  /** One Int32 shared by every worker of the process: how many cells run now (written by the main thread; SpinWatch's `solo`). */
  running: SharedArrayBuffer;
  request: SharedArrayBuffer;
  reply: SharedArrayBuffer;
  /** The worker's end of the bridge port (big requests out, big replies in). */
  port: MessagePort;
}

export interface ParkingSetup {
  image: SharedArrayBuffer;
  runs: number[];
  pages: { initial: number; maximum: number };
}

/**
 * A parked session's guest, between cells, held by the main thread: its memory (shared,
 * not copied), its mutable globals, and the WASI state (descriptors, the in-memory
 * workspace's tree; the tree's file bytes in `blobs`).
 */
export interface ParkedGuest {
  memory: WebAssembly.Memory;
  globals: (number | string)[];
  wasi: unknown;
  blobs: Uint8Array;
}

export interface WorkerConfig {
  memoryLimitBytes: number;
  maxOutputBytes: number;
  workspaceLimitBytes: number;
  /** Largest request (a call's or a batch's JSON) the guest may send, checked in the worker. */
  maxCallBytes: number;
  /** Host folder mounted at /workspace; none keeps the workspace in memory only. */
  workspaceDir?: string;
}

export type ToWorker =
  /** To a worker started without its guest (WorkerSetup.guest): all of it but the module, which is still compiling (a fresh memory is made meanwhile). */
  | { t: 'setup'; setup: Omit<GuestSetup, 'module'> }
  /** Then the compiled module; answered with 'ready'. */
  | { t: 'module'; module: WebAssembly.Module }
  | { t: 'configure'; config: WorkerConfig }
  /** Between sessions: a fresh guest from the snapshot, for the next session (answered with 'ready'). */
  | { t: 'reset' }
  | { t: 'run'; code: string }
  /** Between cells: the session as a checkpoint (checkpoint.ts), against the snapshot's memory `base`. */
  | { t: 'checkpoint'; base: SharedArrayBuffer; guestSha256: string; key?: string }
  /**
   * On a fresh, configured worker: continue from a checkpoint, decoded and checked here (its
   * signature first) on the session's own thread; `fresh` reseeds Python's random (a fork).
   */
  | { t: 'restore'; checkpoint: Uint8Array; guestSha256: string; key?: string; fresh: boolean }
  /** Between cells: hand the session's guest to the main thread (answered with 'parked'); the worker then serves no session. */
  | { t: 'park' }
  /** On a free worker: serve this parked session (answered with 'configured'). */
  | { t: 'attach'; parked: ParkedGuest; config: WorkerConfig };

export type FromWorker =
  /** The thread has booted and loaded its modules (the first message; see v8-tuning.ts). */
  | { t: 'booted' }
  | { t: 'ready' }
  | { t: 'configured'; error?: string }
  | { t: 'out'; stream: 'stdout' | 'stderr'; text: string }
  /** The cell's output already came as 'out' messages; the result does not repeat it. */
  | { t: 'done'; result: Omit<CellResult, 'stdout' | 'stderr'> }
  | { t: 'crash'; message: string }
  | { t: 'checkpointed'; bytes?: Uint8Array; error?: string }
  | { t: 'restored'; error?: string }
  | { t: 'parked'; parked?: ParkedGuest; error?: string };

/**
 * Spin-then-park for one side of the bridge: after sending, watch the other side's slot
 * before parking, since a quick peer answers sooner than a parked thread can be woken (a
 * futex round trip, and on the main thread an event-loop turn).
 *
 * While one cell runs in the process, how long to watch is predicted from the waits seen
 * lately, every wait counted, watched or not (the caller reports one that outlasted its
 * watch with `waited`): twice their smoothed length, within [minMs, maxMs]. Whether to watch
 * at all depends on the other side's own time, which it reports with each exchange
 * (`own`: REQ_THINK, REPLY_THINK): no watch when that runs longer than half of maxMs (a slow
 * handler, Python working between calls).
 *
 * The two sides depend on each other: a side that stops watching answers through its slower
 * path, which makes the other side's watch miss in turn, and both can stay in that slow
 * state for as long as the calls go on. Counting misses falls into it (seen: 30 us per call
 * where 8 is the norm). So did deciding from the waits themselves, which include the other
 * side's slow path: with another process busy on one of the two cores (or V8 compiling the
 * guest there, in a new process's first calls), calls went 8 us and 80 us in stretches of
 * thousands, the worker's smoothed wait above the cut-off while the main thread's handler
 * took 3 us. The other side's own time does not grow when it is slow to notice, so a watch
 * that caught a slow answer catches the next quick one.
 *
 * With several cells running, the threads compete for the cores, and the older rule serves
 * them better (measured with 2, 4 and 20 sessions calling at once): watch minMs, and after a
 * miss skip the next 1, 2, 4 ... 16 watches; a hit resets that.
 */
export class SpinWatch {
  /** Smoothed wait, ms (an exponential moving average, each wait capped at 4 x maxMs). */
  private typical: number;
  /** Smoothed own time of the other side, ms (what it reports with `own`). */
  private other: number;
  private readonly cap: number;
  private skip = 0;
  private backoff = 0;
  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {
    this.typical = minMs;
    this.other = 0;
    this.cap = 4 * maxMs;
  }

  /**
   * Watches until `ready()` is true (true) or the time is up or the watch is not worth it
   * (false: the caller parks, then reports the whole wait with `waited`). `since`: when the
   * wait began (performance.now()); `solo`: this is the only cell running in the process.
   */
  watch(ready: () => boolean, since: number, solo: boolean): boolean {
    let budget: number;
    if (solo) budget = this.other > this.maxMs / 2 ? 0 : Math.min(this.maxMs, Math.max(this.minMs, 2 * this.typical));
    else if (this.skip > 0) {
      this.skip--;
      budget = 0;
    } else budget = this.minMs;
    const until = since + budget;
    for (;;) {
      if (ready()) {
        this.waited(performance.now() - since);
        if (budget > 0) this.backoff = 0;
        return true;
      }
      if (performance.now() > until) break;
    }
    if (budget > 0 && !solo) {
      this.backoff = Math.min(16, this.backoff * 2 || 1);
      this.skip = this.backoff;
    }
    return false;
  }

  /** A wait (ms) that the watch did not see end. */
  waited(ms: number): void {
    this.typical += (Math.min(ms, this.cap) - this.typical) / 4;
  }

  /** The other side's own time (ms) in the exchange that just ended, as it reported it. */
  own(ms: number): void {
    this.other += (Math.min(ms, this.cap) - this.other) / 4;
  }
}

/**
 * Whether the worker should watch for replies at all while its cell runs alone, chosen by
 * measuring. A watch pays while each side has a core to itself: the reply is seen within
 * microseconds, where parking costs a futex wake-up (30-50 us on this 2-vCPU VM). When a
 * third thread wants a core (another process, or V8 compiling the guest in the background
 * during a new process's first seconds), two watching threads keep the one with work to do
 * off the core: calls measured 80 us in stretches of thousands, against 25-40 us with the
 * worker parking at once (which hands its core to the main thread).
 *
 * So the worker keeps the median crossing (round trip less the handler's own time: what
 * the choice changes) of each way over epochs of EPOCH calls. It watches; once watching
 * runs slow (over SLOW_MS, smoothed), it tries an epoch of parking, and parks while that
 * costs less than half as much, trying the other way every PROBE-th epoch. A watch that
 * stays quick never tries parking: the common case pays nothing for this.
 */
export class WatchOrPark {
  static readonly EPOCH = 32;
  static readonly PROBE = 8;
  static readonly SLOW_MS = 0.03;
  /** Whether this epoch watches. */
  watching = true;
  private calls = 0;
  private epoch = 0;
  private readonly samples = new Float64Array(WatchOrPark.EPOCH);
  /** Smoothed median crossing (ms) of watching and of parking; NaN until measured. */
  private readonly cost = { watch: Number.NaN, park: Number.NaN };

  /** The crossing (ms) of a call made under this epoch's choice. */
  record(ms: number): void {
    this.samples[this.calls++] = ms;
    if (this.calls < WatchOrPark.EPOCH) return;
    this.calls = 0;
    const median = this.samples.sort()[WatchOrPark.EPOCH >> 1]!;
    const key = this.watching ? 'watch' : 'park';
    const was = this.cost[key];
    // A quick epoch is believed at once (back to watching as soon as it pays again); a slow
    // one moves the estimate a quarter of the way (one preempted epoch changes nothing).
    this.cost[key] = Number.isNaN(was) || median < was ? median : was + (median - was) / 4;
    this.epoch++;
    const { watch, park } = this.cost;
    if (!(watch > WatchOrPark.SLOW_MS)) {
      this.watching = true;
      return;
    }
    const parkPays = park < watch / 2; // false while parking is unmeasured
    const probe = Number.isNaN(park) || this.epoch % WatchOrPark.PROBE === 0;
    this.watching = probe ? parkPays : !parkPays;
  }
}

/** Takes messages from `port` until the one for `seq`; older ones (stale) are dropped. */
export function takePortMessage(port: MessagePort, seq: number, receive: (port: MessagePort) => { message: unknown } | undefined): string | undefined {
  for (;;) {
    const m = receive(port);
    if (!m) return undefined;
    const msg = m.message as PortMessage;
    if (msg.seq === seq) return msg.text;
  }
}
