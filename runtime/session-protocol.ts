// Messages between a session (main thread, session.ts) and its worker (session-worker.ts).
//
// The worker runs the guest synchronously. When the guest calls the host, the worker
// writes the request into the shared data buffer, notifies REQUEST and blocks in
// Atomics.wait on REPLY; the main thread, parked in Atomics.waitAsync on REQUEST, runs
// the handler on its own event loop, writes the reply into the same buffer and notifies
// REPLY. No busy-waiting on either side, and no message queue on the hot path. A message
// too big for the buffer goes by postMessage (request) or the reply port (reply)
// instead, with LENGTH = -1.

import type { MessagePort } from 'node:worker_threads';
import type { CellResult } from './instance.js';

/** Int32 slots of the shared control array. */
export const Ctl = {
  /** 0 while the worker waits for a reply, 1 once it is posted. */
  REPLY: 0,
  /** 1 asks the running cell to stop (a timeout); the guest consumes it. */
  INTERRUPT: 1,
  /** 1 while a request waits for the main thread. */
  REQUEST: 2,
  /** Bytes of the request or reply in the data buffer; -1: it came as a message. */
  LENGTH: 3,
  SIZE: 4,
} as const;

/** Bytes of the shared data buffer of a session (allocated lazily by the OS). */
export const DATA_BYTES = 1 << 20;

export interface WorkerSetup {
  module: WebAssembly.Module;
  snapshot: boolean;
  /** /lib files, shared read-only by every worker of the process. */
  lib: Record<string, SharedArrayBuffer>;
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  replyPort: MessagePort;
}

export interface WorkerConfig {
  memoryLimitBytes: number;
  maxOutputBytes: number;
  workspaceLimitBytes: number;
  /** Host folder mounted at /workspace; none keeps the workspace in memory only. */
  workspaceDir?: string;
}

export type ToWorker = { t: 'configure'; config: WorkerConfig } | { t: 'run'; code: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'configured'; error?: string }
  | { t: 'out'; stream: 'stdout' | 'stderr'; text: string }
  | { t: 'host'; request: string }
  /** The cell's output already came as 'out' messages; the result does not repeat it. */
  | { t: 'done'; result: Omit<CellResult, 'stdout' | 'stderr'> }
  | { t: 'crash'; message: string };
