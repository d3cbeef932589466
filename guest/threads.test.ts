// Threads in the guest (guest/python/_tic/threads.py): WASI CPython cannot start one, and
// the guest runs what cells start with threads one at a time on its only thread.

import { describe, expect, it } from 'vitest';
import { guestImage } from '../test-setup/guest.js';
import { GuestInstance } from '../runtime/instance.js';

async function fresh() {
  return new GuestInstance(await guestImage('snapshot'));
}

describe('threads in a guest that has one thread', () => {
  it('ThreadPoolExecutor: map, submit, as_completed and a failing call give what Python gives', async () => {
    const g = await fresh();
    const r = g.run(`from concurrent.futures import ThreadPoolExecutor, as_completed
def f(x):
    if x == 3:
        raise ValueError("three")
    return x * 10
with ThreadPoolExecutor(max_workers=4) as ex:
    mapped = list(ex.map(lambda x: x * x, range(5)))
    futures = {ex.submit(f, i): i for i in range(5)}
    out = {}
    for fu in as_completed(futures):
        try:
            out[futures[fu]] = fu.result()
        except ValueError as e:
            out[futures[fu]] = str(e)
(mapped, sorted(out.items()))`);
    expect(r.error?.traceback).toBeUndefined();
    expect(r.value).toBe("([0, 1, 4, 9, 16], [(0, 0), (1, 10), (2, 20), (3, 'three'), (4, 40)])");
  });

  it('asyncio.to_thread, run_in_executor and ProcessPoolExecutor run their calls; asyncio.run ends', async () => {
    const g = await fresh();
    const r = g.run(`import asyncio
from concurrent.futures import ProcessPoolExecutor
async def main():
    a = await asyncio.to_thread(lambda: 5)
    b = await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2, 3])
    return a, b
with ProcessPoolExecutor() as pool:
    c = list(pool.map(abs, [-1, -2]))
(asyncio.run(main()), c)`);
    expect(r.error?.traceback).toBeUndefined();
    expect(r.value).toBe('((5, 6), [1, 2])');
  });

  it('Thread.start() then join(): each thread runs once, as itself (current_thread, name), on the one thread there is', async () => {
    const g = await fresh();
    const r = g.run(`import threading
seen = []
def work(i):
    seen.append((i, threading.current_thread().name, threading.get_ident() == main_ident))
main_ident = threading.get_ident()
ts = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(3)]
for t in ts:
    t.start()
alive = [t.is_alive() for t in ts]
for t in ts:
    t.join()
(seen, alive, [t.is_alive() for t in ts], threading.current_thread().name)`);
    expect(r.value).toBe("([(0, 'w0', True), (1, 'w1', True), (2, 'w2', True)], [True, True, True], [False, False, False], 'MainThread')");
  });

  it('a thread waiting on a queue or an event runs when the cell waits for it; a daemon worker left on an empty queue ends quietly', async () => {
    const g = await fresh();
    const r = g.run(`import threading, queue
q = queue.Queue(); got = []
def consumer():
    while (item := q.get()) is not None:
        got.append(item)
c = threading.Thread(target=consumer); c.start()
for i in range(3):
    q.put(i)
q.put(None); c.join()
jobs = queue.Queue(); done = []
def worker():
    while True:
        item = jobs.get(); done.append(item * 2); jobs.task_done()
threading.Thread(target=worker, daemon=True).start()
for i in range(4):
    jobs.put(i)
jobs.join()
ev = threading.Event(); flag = []
w = threading.Thread(target=lambda: (ev.wait(), flag.append("set"))); w.start(); ev.set(); w.join()
(got, done, flag)`);
    expect(r.error?.traceback).toBeUndefined();
    expect(r.value).toBe("([0, 1, 2], [0, 2, 4, 6], ['set'])");
    expect(r.stderr).toBe('');
  });

  it('threads never joined run at the end of their cell (daemon ones do not), and an uncaught exception in one goes to stderr, the cell still ok', async () => {
    const g = await fresh();
    const r = g.run(`import threading
log = []
threading.Thread(target=lambda: log.append("late")).start()
threading.Thread(target=lambda: log.append("daemon"), daemon=True).start()
threading.Thread(target=lambda: 1 / 0, name="bad").start()
print("body done")`);
    expect(r.ok).toBe(true);
    expect(r.stdout).toBe('body done\n');
    expect(r.stderr).toMatch(/Exception in thread bad[\s\S]*ZeroDivisionError: division by zero/);
    expect(g.run('log').value).toBe("['late']");
  });

  it('a wait nothing can answer fails at once with an error that says why, instead of hanging to the time limit', async () => {
    const g = await fresh();
    const r = g.run('import threading\nthreading.Event().wait()');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toBe('RuntimeError');
    expect(r.error?.message).toMatch(/the cell would wait forever: threads run one at a time/);
    const q = g.run('import queue\nqueue.Queue().get(timeout=0.05)');
    expect(q.error?.type).toMatch(/Empty$/); // with a timeout it waits, as in Python
  });

  it('a cell interrupted (its time limit) inside a pool call stops there: the interrupt is not kept in a future, the next calls do not run', async () => {
    let polls = 0;
    const g = new GuestInstance(await guestImage('snapshot'), { poll: () => (++polls === 20 ? 1 : 0) });
    const r = g.run(`from concurrent.futures import ThreadPoolExecutor
started = []
def spin(i):
    started.append(i)
    while True:
        pass
with ThreadPoolExecutor() as ex:
    results = list(ex.map(spin, range(3)))`);
    expect(r.error?.type).toBe('TimeoutError');
    expect(g.run('started').value).toBe('[0]');
  });

  it('still starts no thread of its own: _thread.start_new_thread fails as before', async () => {
    const g = await fresh();
    const r = g.run('import _thread\n_thread.start_new_thread(print, ())');
    expect(r.error?.type).toBe('RuntimeError');
    expect(r.error?.message).toMatch(/can't start new thread/);
  });
});
