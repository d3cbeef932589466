// A worker thread that runs CPython test modules in the guest, each in a fresh instance
// of the snapshot (its own memory, interpreter and empty workspace), one at a time.

import { parentPort, workerData } from 'node:worker_threads';
import { GuestCrash, GuestInstance, lazyFileBytes } from '../runtime/instance.js';
import type { LazyBytes } from '../runtime/wasi/memfs.js';
import { MOUNT, type GuestJob, type GuestJobResult, parseDriverOutput, testTreeFiles } from './suite.js';

interface Setup {
  module: WebAssembly.Module;
  stdlibZip: string;
  testRoot: string;
  driver: string;
}

const setup = workerData as Setup;
// The files under /lib: the stdlib, and the tests with their driver under /lib/cpython-tests.
// Read lazily and shared by every instance of this worker.
const lib: Record<string, LazyBytes> = { 'python311.zip': lazyFileBytes(setup.stdlibZip) };
for (const [rel, path] of testTreeFiles(setup.testRoot)) lib[`${MOUNT.slice('/lib/'.length)}/${rel}`] = lazyFileBytes(path);
lib[`${MOUNT.slice('/lib/'.length)}/_cpython_test_driver.py`] = lazyFileBytes(setup.driver);

function runModule(job: GuestJob): GuestJobResult {
  const started = Date.now();
  const deadline = started + job.timeoutMs;
  let timedOut = false;
  const poll = () => {
    if (Date.now() < deadline) return 0;
    timedOut = true;
    return 1; // TimeoutError
  };
  const cell = [
    'import sys',
    `sys.path.insert(0, ${JSON.stringify(MOUNT)})`,
    'import _cpython_test_driver',
    `_cpython_test_driver.main(${JSON.stringify(MOUNT)}, ${JSON.stringify(job.module)})`,
  ].join('\n');
  try {
    const instance = new GuestInstance({ module: setup.module, snapshot: true, lib }, { poll });
    const result = instance.run(cell);
    const parsed = parseDriverOutput(result.stdout);
    if (parsed) return { ...parsed, wallSeconds: (Date.now() - started) / 1000, ...(timedOut ? { problem: `timed out after ${job.timeoutMs / 1000} s` } : {}) };
    const why = result.error ? `${result.error.type}: ${result.error.message}` : 'no report';
    return { tests: {}, seconds: 0, wallSeconds: (Date.now() - started) / 1000, problem: `${why}\n${result.stderr.slice(-2000)}` };
  } catch (err) {
    const what = err instanceof GuestCrash ? err.message : String(err);
    return { tests: {}, seconds: 0, wallSeconds: (Date.now() - started) / 1000, problem: what.slice(-2000) };
  }
}

parentPort!.on('message', (job: GuestJob) => {
  parentPort!.postMessage(runModule(job));
});
