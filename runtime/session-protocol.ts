// Messages between a session (main thread, session.ts) and its worker (session-worker.ts).
//
// The worker runs the guest synchronously. When the guest calls the host, the worker
// posts the request and blocks in Atomics.wait on the control array; the main thread
// runs the handler on its own event loop, posts the reply on the reply port and
// notifies; the worker wakes and takes the reply with receiveMessageOnPort. No
// busy-waiting on either side.

import type { MessagePort } from 'node:worker_threads';
import type { CellResult } from './instance.js';

/** Int32 slots of the shared control array. */
export const Ctl = {
  /** 0 while the worker waits for a reply, 1 once it is posted. */
  REPLY: 0,
  /** 1 asks the running cell to stop (a timeout); the guest consumes it. */
  INTERRUPT: 1,
  SIZE: 2,
} as const;

export interface WorkerSetup {
  module: WebAssembly.Module;
  snapshot: boolean;
  /** /lib files, shared read-only by every worker of the process. */
  lib: Record<string, SharedArrayBuffer>;
  ctl: SharedArrayBuffer;
  replyPort: MessagePort;
}

export interface WorkerConfig {
  memoryLimitBytes: number;
  maxOutputBytes: number;
  workspaceLimitBytes: number;
  /** Host folder mirrored at /workspace; none keeps the workspace in memory only. */
  workspaceDir?: string;
}

export type ToWorker = { t: 'configure'; config: WorkerConfig } | { t: 'run'; code: string };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'configured'; error?: string }
  | { t: 'out'; stream: 'stdout' | 'stderr'; text: string }
  | { t: 'host'; request: string }
  | { t: 'done'; result: CellResult; memoryBytes: number; workspaceError?: string }
  | { t: 'crash'; message: string };
