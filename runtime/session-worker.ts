// The worker thread of one session: it owns the guest instance and runs its cells. The
// guest blocks this thread (never the host's event loop) while it computes, sleeps or
// waits for a handler; see session-protocol.ts for how it talks to the main thread.

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { GuestCrash, GuestInstance } from './instance.js';
import { Ctl, type FromWorker, type ToWorker, type WorkerSetup } from './session-protocol.js';
import { type DirNode, applyQuota, makeDir } from './wasi/memfs.js';
import { openWorkspace } from './workspace.js';

const setup = workerData as WorkerSetup;
const ctl = new Int32Array(setup.ctl);
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

const data = new Uint8Array(setup.data);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function hostCall(request: string): string {
  Atomics.store(ctl, Ctl.REPLY, 0);
  const { read, written } = encoder.encodeInto(request, data);
  if (read === request.length) {
    Atomics.store(ctl, Ctl.LENGTH, written);
  } else {
    Atomics.store(ctl, Ctl.LENGTH, -1); // too big for the buffer: send it as a message
    post({ t: 'host', request });
  }
  Atomics.store(ctl, Ctl.REQUEST, 1);
  Atomics.notify(ctl, Ctl.REQUEST);
  Atomics.wait(ctl, Ctl.REPLY, 0);
  const length = Atomics.load(ctl, Ctl.LENGTH);
  if (length >= 0) return decoder.decode(data.subarray(0, length));
  const reply = receiveMessageOnPort(setup.replyPort);
  if (!reply) throw new GuestCrash('the host woke the guest without a reply');
  return reply.message as string;
}

/** The in-memory workspace, used when the session has no host folder. */
const workspace: DirNode = makeDir(false);
/** Bytes the workspace holds (in memory), or has grown by through this session (a host folder). */
const quota = { limit: Number.POSITIVE_INFINITY, used: 0 };
let guest: GuestInstance | undefined;

function instantiate(): GuestInstance {
  const lib = Object.fromEntries(Object.entries(setup.lib).map(([k, v]) => [k, new Uint8Array(v)]));
  return new GuestInstance(
    { module: setup.module, snapshot: setup.snapshot, lib },
    {
      hostCall,
      // The main thread sets INTERRUPT at the deadline; the guest takes it exactly once.
      poll: () => Atomics.exchange(ctl, Ctl.INTERRUPT, 0) === 1,
      // Sleeping on the same slot lets the deadline cut a time.sleep short.
      sleep: (ms) => void Atomics.wait(ctl, Ctl.INTERRUPT, 0, ms),
      workspace,
      maxOutputBytes: Number.POSITIVE_INFINITY, // set per cell below, from the config
    },
  );
}

try {
  guest = instantiate();
  post({ t: 'ready' });
} catch (err) {
  post({ t: 'crash', message: (err as Error).message });
}

port.on('message', (msg: ToWorker) => {
  if (!guest) return;
  if (msg.t === 'configure') {
    const config = msg.config;
    try {
      guest.setLimits({ memoryLimitBytes: config.memoryLimitBytes, maxOutputBytes: config.maxOutputBytes });
      quota.limit = config.workspaceLimitBytes;
      applyQuota(workspace, quota);
      if (config.workspaceDir !== undefined) {
        quota.used = 0; // a host folder: the quota counts what this session adds to it
        guest.mountWorkspace(openWorkspace(config.workspaceDir, quota));
      }
      post({ t: 'configured' });
    } catch (err) {
      post({ t: 'configured', error: (err as Error).message });
    }
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
