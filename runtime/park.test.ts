// Parking (session.ts): between cells a session gives its worker back and is only its
// memory; the next cell continues it on whichever worker is free. These tests interleave
// sessions on fewer threads than sessions, so every cell after the first is a continuation
// on another instance, and check that nothing of a session is lost or leaks to another.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testGuestDir, testSessions } from '../test-setup/session.js';
import { loadGuest } from './guest.js';
import type { Session } from './session.js';

const { guest: testGuest, session, closeAfter } = testSessions({ warm: 0 });

/** Past the turn in which a session parks. */
const parked = () => new Promise((r) => setTimeout(r, 20));
const threadOf = (s: Session) => (s as unknown as { handle?: { worker: { threadId: number } } }).handle?.worker.threadId;

describe('a parked session', () => {
  it('gives its thread back: sessions run one after another share a thread', async () => {
    const threads = new Set<number>();
    const sessions: Session[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await session();
      await s.run(`n = ${i}`);
      threads.add(threadOf(s)!); // still attached right after its cell
      sessions.push(s);
      await parked();
      expect(threadOf(s)).toBeUndefined(); // parked: no thread
    }
    // warm 0: one thread started for the first session, then handed from session to session.
    expect(threads.size).toBe(1);
    const values = await Promise.all(sessions.map((s) => s.run('n')));
    expect(values.map((r) => r.value)).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('keeps everything across parks, interleaved with another session on the same thread', async () => {
    const a = await session();
    const b = await session();
    const first = await a.run(
      [
        'import asyncio, os, sys',
        'secret = [i * i for i in range(100_000)]', // memory grown past the snapshot's
        'f = open("log.txt", "w")',
        'f.write("one ")', // buffered in Python, not yet written
        'os.mkdir("pkg")',
        'open("pkg/mine.py", "w").write("V = 7")',
        'sys.path.insert(0, "pkg")',
        'import mine',
        'results = []',
        'async def later():',
        '    await asyncio.sleep(0)',
        '    results.append("task ran")',
        'loop = asyncio.new_event_loop()',
        'task = loop.create_task(later())', // pending across cells
      ].join('\n'),
    );
    expect(first.error).toBeUndefined();
    expect((await b.run('1')).ok).toBe(true);
    await b.run('secret = "b"\nopen("log.txt", "w").write("b\'s")');
    await parked();
    await b.run('secret += "!"');
    await parked();
    const r = await a.run('f.write("two")\nf.close()\nloop.run_until_complete(task)\n(len(secret), secret[-1], open("log.txt").read(), mine.V, results, sorted(os.listdir(".")))');
    expect(r.error).toBeUndefined();
    expect(r.value).toBe(`(100000, ${99_999 ** 2}, 'one two', 7, ['task ran'], ['log.txt', 'pkg'])`);
    expect((await b.run('(secret, open("log.txt").read())')).value).toBe(`('b!', "b's")`);
  });

  it('keeps open descriptors: a file read half-way goes on from where it was', async () => {
    const s = await session();
    await s.run('open("lines.txt", "w").write("".join(f"{i}\\n" for i in range(5000)))\nr = open("lines.txt")\nfirst = [r.readline() for _ in range(10)]');
    await parked();
    await (await session()).run('1'); // another session takes the thread in between
    await parked();
    const next = await s.run('r.readline().strip(), len(r.read().splitlines())');
    expect(next.value).toBe("('10', 4989)");
  });

  it('runs a cell that times out and one that is cancelled, and goes on after both', async () => {
    const s = await session({ limits: { timeoutMs: 300 } });
    await s.run('x = 1');
    await parked();
    const slow = await s.run('while True: pass');
    expect(slow.error?.type).toBe('TimeoutError');
    await parked();
    const controller = new AbortController();
    const cancelled = s.run('import time\ntime.sleep(20)', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect((await cancelled).error?.type).toBe('KeyboardInterrupt');
    await parked();
    expect((await s.run('x + 1')).value).toBe('2');
  });

  it('checkpoints and forks from parked', async () => {
    const s = await session();
    await s.run('state = {"k": [1, 2, 3]}\nopen("w.txt", "w").write("kept")');
    await parked();
    const copy = await s.fork();
    closeAfter(copy);
    expect((await copy.run('state["k"].append(4)\n(state, open("w.txt").read())')).value).toBe("({'k': [1, 2, 3, 4]}, 'kept')");
    expect((await s.run('state')).value).toBe("{'k': [1, 2, 3]}");
  });

  it('runs a cell asked for while it parks after the park, with nothing lost (50 times)', async () => {
    const s = await session();
    await s.run('x = 0\nlog = open("log.txt", "a")');
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setImmediate(r)); // the park starts in this turn; the cell is asked for while it runs
      const r = await s.run('x += 1\nlog.write("+")\nlog.flush()\nx');
      expect(r.value).toBe(String(i + 1));
    }
    expect((await s.run('len(open("log.txt").read())')).value).toBe('50');
  });

  it('keeps its limits on every worker it continues on', async () => {
    const s = await session({ limits: { memoryMb: 64, maxOutputBytes: 100 } });
    await s.run('x = 1');
    await parked();
    const big = await s.run('b = bytearray(100 << 20)');
    expect(big.error?.type).toBe('MemoryError');
    await parked();
    const out = await s.run('print("y" * 1000)');
    expect(out.stdout).toContain('[tooliscode: output truncated after 100 bytes]');
    expect((await s.run('x')).value).toBe('1');
  });

  it('keeps its thread when its workspace is a host folder (host descriptors)', async () => {
    const s = await session({ workspace: mkdtempSync(join(tmpdir(), 'tic-park-ws-')) });
    await s.run('open("a", "w").write("x")');
    const thread = threadOf(s);
    await parked();
    expect(threadOf(s)).toBe(thread);
  });

  it('keeps its thread while its in-memory workspace holds more than 1 MiB (moving it would copy it), and parks again below', async () => {
    const s = await session();
    await s.run('open("big.bin", "wb").write(b"x" * (2 << 20))');
    const thread = threadOf(s);
    await parked();
    expect(threadOf(s)).toBe(thread);
    expect((await s.run('import os\nos.path.getsize("big.bin")')).value).toBe(String(2 << 20));
    await s.run('os.remove("big.bin")');
    await parked();
    expect(threadOf(s)).toBeUndefined();
    expect((await s.run('os.listdir(".")')).value).toBe('[]');
  });

  it('keeps the threads of a burst a while: the next burst of cells runs on them', async () => {
    const g = await loadGuest(await testGuestDir(), { warm: 0 }); // an empty pool: every thread is this test's
    try {
      const sessions = await Promise.all([0, 1, 2, 3].map(() => g.createSession()));
      const burst = () => Promise.all(sessions.map(async (s) => (await s.run('1'), threadOf(s)!)));
      await parked();
      const first = new Set(await burst());
      expect(first.size).toBe(4); // four cells at once: four threads
      await parked();
      const second = await burst();
      expect(second.every((t) => first.has(t))).toBe(true);
    } finally {
      await g.close();
    }
  });

  it('closes without a thread, and its memory goes with it', async () => {
    const s = await testGuest().createSession();
    await s.run('big = bytearray(50 << 20)');
    await parked();
    await s.close();
    await expect(s.run('1')).rejects.toThrow(/closed/);
  });
});

describe('workers collecting their garbage', () => {
  it('all at once, on several threads, end no worker and no session (the gc flag is process-wide)', async () => {
    const g = await loadGuest(await testGuestDir(), { warm: 0 });
    try {
      for (let round = 0; round < 3; round++) {
        const sessions = await Promise.all([0, 1, 2, 3, 4, 5].map(() => g.createSession()));
        await Promise.all(sessions.map((s) => s.run('x = [0] * 100_000')));
        await Promise.all(sessions.map((s) => s.close())); // six workers let their guests go together
        await new Promise((r) => setTimeout(r, 350)); // past the 200 ms after which each collects
      }
      const s = await g.createSession();
      expect((await s.run('6 * 7')).value).toBe('42');
      await s.close();
    } finally {
      await g.close();
    }
  });
});

describe('park: false', () => {
  it('keeps one thread per session for its life', async () => {
    const g = await loadGuest(await testGuestDir(), { warm: 0, park: false });
    try {
      const a = await g.createSession();
      await a.run('x = 1');
      const thread = threadOf(a);
      await parked();
      expect(threadOf(a)).toBe(thread);
      expect((await a.run('x')).value).toBe('1');
      await a.close();
    } finally {
      await g.close();
    }
  });
});
