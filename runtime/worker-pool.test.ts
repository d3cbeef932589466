// The pool of warm workers behind loadGuest: which script a worker runs, and when a warm
// worker that a session took is replaced (not while a cell runs, unless it runs long).
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testSessions } from '../test-setup/session.js';
import { workerScriptIn } from './guest.js';
import { readyOf } from './session.js';
import { Worker } from 'node:worker_threads';
import { GuestLoadError } from './load.js';

// Sessions keep their thread (no parking), so the pool holds only what refills it.
const { guest, session } = testSessions({ warm: 1, park: false });

describe('the worker script', () => {
  /** A package folder's build/runtime/ with tsc's worker module, in a clone (with .git) or as installed. */
  const folder = (clone: boolean) => {
    const root = mkdtempSync(join(tmpdir(), 'tic-worker-script-'));
    const dir = join(root, 'build', 'runtime');
    mkdirSync(dir, { recursive: true });
    if (clone) mkdirSync(join(root, '.git'));
    writeFileSync(join(dir, 'session-worker.js'), '');
    return dir;
  };
  const age = (file: string, secondsAgo: number) => utimesSync(file, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));

  // In a clone, the bundle unless tsc wrote the modules after it (a stale bundle never runs);
  // installed, file times are when npm unpacked the package: the bundle whatever they are.
  it.each([
    { where: 'a clone', clone: true, bundle: true, older: 'session-worker.js', runs: 'session-worker.cjs' },
    { where: 'a clone', clone: true, bundle: true, older: 'session-worker.cjs', runs: 'session-worker.js' },
    { where: 'a clone', clone: true, bundle: false, older: 'session-worker.js', runs: 'session-worker.js' },
    { where: 'an installed package', clone: false, bundle: true, older: 'session-worker.cjs', runs: 'session-worker.cjs' },
  ])('in $where, bundle present: $bundle, $older older: runs $runs', ({ clone, bundle, older, runs }) => {
    const dir = folder(clone);
    if (bundle) writeFileSync(join(dir, 'session-worker.cjs'), '');
    age(join(dir, older), 10);
    expect(workerScriptIn(dir)).toBe(join(dir, runs));
  });

  it('is refused, naming the file, when the build is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-worker-script-'));
    expect(() => workerScriptIn(dir)).toThrow(GuestLoadError);
    expect(() => workerScriptIn(dir)).toThrow(/session-worker\.js is missing: run npm run build/);
  });
});

describe('a warm worker taken by a session', () => {
  const settle = () => new Promise((r) => setTimeout(r, 50));

  it('is replaced once no cell runs, not beside the cell', async () => {
    const g = guest();
    await g.ready();
    expect(g.idleWorkers).toBe(1);
    const s = await session();
    const cell = s.run('import time\ntime.sleep(0.3)\n1');
    await settle();
    expect(g.idleWorkers).toBe(0); // the cell runs: no new worker boots beside it
    expect((await cell).value).toBe('1');
    await settle();
    expect(g.idleWorkers).toBe(1);
  });

  it('is replaced after half a second even while cells run', async () => {
    const g = guest();
    await g.ready();
    const s = await session();
    const cell = s.run('import time\ntime.sleep(1.2)\n2');
    await new Promise((r) => setTimeout(r, 200));
    expect(g.idleWorkers).toBe(0);
    await new Promise((r) => setTimeout(r, 600));
    expect(g.idleWorkers).toBe(1);
    expect((await cell).value).toBe('2');
  });
});

describe('a worker that ends before its guest is ready', () => {
  it('fails what waits for it, naming why, instead of leaving it waiting', async () => {
    const worker = new Worker('process.exit(3)', { eval: true });
    await expect(readyOf(worker)).rejects.toThrow('the guest failed to start: its worker ended (exit code 3)');
  });
});
