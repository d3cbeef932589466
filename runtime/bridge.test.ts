// The call bridge (session-protocol.ts) under stress: every reply reaches the call that
// asked for it, whatever wakes the worker, however big the payload, whatever times out.
// Each call sends its own id and a payload derived from it; the handler echoes both; the
// cell compares, so a lost, duplicated or crossed reply is counted where it happens.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../compiler/build.js';
import { type Guest, loadGuest } from './guest.js';
import type { RunResult, Session } from './session.js';
import { Ctl, DATA_BYTES, SpinWatch, WatchOrPark } from './session-protocol.js';

const TOOLS = {
  tools: [
    { name: 'echo', inputSchema: { type: 'object', properties: { id: { type: 'integer' }, p: { type: 'string' } }, required: ['id', 'p'], additionalProperties: false } },
    { name: 'late', inputSchema: { type: 'object', properties: { ms: { type: 'number' } }, required: ['ms'] } },
  ],
};

/** Answers now, after a microtask, or after a turn of the event loop: replies race with requests in every order. */
function echo(args: { id: number; p: string }): unknown {
  switch (args.id % 3) {
    case 0:
      return args;
    case 1:
      return Promise.resolve(args);
    default:
      return new Promise((resolve) => setImmediate(() => resolve(args)));
  }
}
/** Answers after its cell has timed out: a reply that must be dropped, and would cross if it were not. */
const late = (args: { ms: number }) => new Promise((resolve) => setTimeout(() => resolve({ id: -1, p: 'late' }), args.ms));

// The payload of call `i`: mostly small, some at the edge of the shared buffer (the bridge
// switches to the port there; in UTF-8 bytes as well, with two-byte characters), some far past it.
const EDGE = Math.floor(DATA_BYTES / 3); // UTF-16 units that always fit as UTF-8
const PAYLOAD = `
def payload(i):
    k = i % 4999
    if k == 1: return 'x' * (${DATA_BYTES} + 1000 + i % 7)
    if k == 2: return 'x' * (${EDGE} - 60 + i % 120)
    if k == 3: return '\\u00e9' * (${DATA_BYTES >> 1} - 40 + i % 80)
    if k == 4: return 'x' * (${DATA_BYTES} - 80 + i % 160)
    return str(i) * (i % 13)
`;

/** Runs calls for about `budget` s (well inside the cell's time limit) and reports how many and what went wrong. */
const stressCell = (start: number, budget: number, asyncEvery: number) => `
import time, asyncio
async def _batch(ids):
    return await asyncio.gather(*(tools.aio.echo(id=j, p=payload(j)) for j in ids), return_exceptions=True)
bad = []
i = ${start}
deadline = time.monotonic() + ${budget}
while time.monotonic() < deadline:
    if i % ${asyncEvery} == 0:
        ids = list(range(i, i + 20))
        for j, r in zip(ids, await _batch(ids)):
            if r != {'id': j, 'p': payload(j)}: bad.append((j, repr(r)[:120]))
        i += 20
    else:
        try:
            r = tools.echo(id=i, p=payload(i))
            if r != {'id': i, 'p': payload(i)}: bad.append((i, repr(r)[:120]))
        except Exception as e:
            bad.append((i, type(e).__name__ + ': ' + str(e)[:120]))
        i += 1
(i, bad[:5], len(bad))
`;

// Cells that end in a timeout, each a different moment of the protocol.
const TIMEOUT_CELLS = [
  'tools.late(ms=TIMEOUT_MS + 300)', // a call in flight: its reply comes during the next cell
  'import asyncio\nawait asyncio.gather(*(tools.aio.late(ms=TIMEOUT_MS + 200 + 50 * k) for k in range(5)))', // a parked wait
  'while True: pass', // running Python: INTERRUPT
  'import time\ntime.sleep(60)', // sleeping
];

const TIMEOUT = 3000;
let guest: Guest;
const open: Session[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tic-bridge-'));
  writeFileSync(join(dir, 'tools.json'), JSON.stringify(TOOLS));
  await build({ inputs: [join(dir, 'tools.json')], outDir: join(dir, 'dist'), log: () => {} });
  guest = await loadGuest(join(dir, 'dist'), { warm: 0 });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await guest?.close();
});

async function session(): Promise<Session> {
  const s = await guest.createSession({ handlers: { echo, late }, limits: { timeoutMs: TIMEOUT, graceMs: 5000 } });
  open.push(s);
  const r = await s.run(`${PAYLOAD}\nTIMEOUT_MS = ${TIMEOUT}`);
  expect(r.error).toBeUndefined();
  return s;
}

/** Calls made and the first bad ones, from a stress cell's value `(next id, bad[:5], len(bad))`. */
function tally(r: RunResult): { calls: number; bad: string } {
  if (r.error) throw new Error(r.error.traceback);
  const m = /^\((\d+), (.*), (\d+)\)$/s.exec(r.value ?? '');
  if (!m) throw new Error(`unexpected value ${r.value}`);
  return { calls: Number(m[1]), bad: m[3] === '0' ? '' : `${m[3]} bad replies, first: ${m[2]}` };
}

/** The handle a test reaches into, to wake the worker when nothing is for it. */
const ctlOf = (s: Session) => (s as unknown as { handle: { ctl: Int32Array } }).handle.ctl;

describe('the call bridge', () => {
  it('a wake-up that is not the reply does not end a call (spurious notifies on every slot)', async () => {
    // Before the sequence numbers, the worker took any return of Atomics.wait as its
    // reply: this test saw 275 of 20,000 calls fail or cross.
    const s = await session();
    const ctl = ctlOf(s);
    const spam = setInterval(() => {
      for (let k = 0; k < 50; k++) for (let slot = 0; slot < Ctl.SIZE; slot++) Atomics.notify(ctl, slot);
    }, 0);
    try {
      const { calls, bad } = tally(await s.run(stressCell(0, 1.5, 1_000_000_007)));
      expect(bad).toBe('');
      expect(calls).toBeGreaterThan(100);
    } finally {
      clearInterval(spam);
    }
  });

  it('a cell calling a quick tool in a tight loop leaves the host event loop free: timers fire, the time limit ends it', async () => {
    // After a reply the main thread takes the guest's next request without an event-loop
    // turn (spin-then-park); those chains are capped, so the host's own work goes on.
    const s = await session();
    // A watch that always catches the next request (1 s instead of 50 us), as on an idle machine with fast cores.
    (s as unknown as { requestWatch: SpinWatch }).requestWatch = new SpinWatch(1000, 2000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const r = await s.run('import time\nn = 0\nend = time.monotonic() + 1.0\nwhile time.monotonic() < end:\n    tools.echo(id=0, p="")\n    n += 1\nn');
      expect(Number(r.value)).toBeGreaterThan(1000);
      expect(ticks).toBeGreaterThan(20); // about 200 when nothing blocks the loop; none if the chain never ended
      const stuck = await s.run('while True: tools.echo(id=0, p="")');
      expect(stuck.error?.type).toBe('TimeoutError');
      expect((await s.run('n > 0')).value).toBe('True');
    } finally {
      clearInterval(timer);
    }
  });

  it('a session closed or parked right after a cell whose last call was not followed by another: nothing is left to fail later', async () => {
    // After the last reply the main thread watches for a next request that never comes (the
    // cell computes, then ends); its listener is released when the cell ends and must not
    // reach for the session's worker, which by then is parked or closed.
    const errors: unknown[] = [];
    const onError = (err: unknown) => errors.push(err);
    process.on('unhandledRejection', onError);
    process.on('uncaughtException', onError);
    try {
      for (let i = 0; i < 12; i++) {
        const s = await guest.createSession({ handlers: { echo, late } });
        const r = await s.run('for k in range(3): tools.echo(id=0, p="")\nsum(range(300_000))');
        expect(r.value).toBe(String((300_000 * 299_999) / 2));
        if (i % 2) await s.close();
        else {
          await new Promise((resolve) => setTimeout(resolve, 20)); // parks
          expect((await s.run('1 + 1')).value).toBe('2');
          await s.close();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(errors).toEqual([]);
    } finally {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    }
  });

  it('several sessions, 500,000 calls each, sync and async, payloads up to past the buffer, timeouts between: no reply lost, doubled or crossed', async () => {
    const sessions = await Promise.all([0, 1, 2].map(() => session()));
    const CALLS = 500_000;
    const results = await Promise.all(
      sessions.map(async (s, n) => {
        let next = 0;
        let round = 0;
        const timeouts: string[] = [];
        while (next < CALLS) {
          const { calls, bad } = tally(await s.run(stressCell(next, 1.0, 7 + n)));
          if (bad) throw new Error(`session ${n}: ${bad}`);
          next = calls;
          // Every few rounds a cell times out at a different moment of the protocol.
          if (++round % 8 === 0) {
            const t = await s.run(TIMEOUT_CELLS[(round / 8 + n) % TIMEOUT_CELLS.length]!);
            timeouts.push(t.error?.type ?? 'none');
          }
        }
        return { calls: next, timeouts };
      }),
    );
    for (const r of results) {
      expect(r.calls).toBeGreaterThanOrEqual(CALLS);
      expect(r.timeouts.length).toBeGreaterThan(0);
      expect(new Set(r.timeouts)).toEqual(new Set(['TimeoutError']));
    }
    // The sessions still answer, with their state.
    for (const s of sessions) expect((await s.run('payload(5)')).value).toBe(`'${'5'.repeat(5)}'`);
  }, 900_000);
});

describe('SpinWatch: when a side of the bridge watches for the other', () => {
  /** A ready() that turns true on its `after`-th look (Infinity: never), counting the looks. */
  const peer = (after: number) => {
    const p = { looks: 0, ready: () => ++p.looks >= after };
    return p;
  };
  const now = () => performance.now();

  it('alone in the process: a short wait it did not watch makes it watch the next one (no alternating back-off)', () => {
    const w = new SpinWatch(0.05, 0.25);
    // A miss: the peer never answers within the watch; the caller parks and reports 30 us.
    expect(w.watch(peer(Infinity).ready, now(), true)).toBe(false);
    w.waited(0.03);
    // The rule that counted misses skipped this watch; this one watches and catches the peer.
    const p = peer(50);
    expect(w.watch(p.ready, now(), true)).toBe(true);
    expect(p.looks).toBe(50);
  });

  it('alone in the process: when the other side reports long own times (a slow handler) it does not watch at all, and resumes once they are short', () => {
    const w = new SpinWatch(0.05, 0.25);
    for (let i = 0; i < 8; i++) {
      w.waited(5);
      w.own(5);
    }
    const slow = peer(Infinity);
    expect(w.watch(slow.ready, now(), true)).toBe(false);
    expect(slow.looks).toBe(1); // one look, no spinning
    for (let i = 0; i < 16; i++) {
      w.waited(0.01);
      w.own(0.005);
    }
    const quick = peer(20);
    expect(w.watch(quick.ready, now(), true)).toBe(true);
  });

  it('alone in the process: long waits with a quick other side (it was slow to notice) keep the watch on', () => {
    // The old rule stopped watching here, and both sides then stayed on their slow paths.
    const w = new SpinWatch(0.05, 0.25);
    for (let i = 0; i < 8; i++) {
      w.waited(0.2);
      w.own(0.003);
    }
    const p = peer(30);
    expect(w.watch(p.ready, now(), true)).toBe(true);
    expect(p.looks).toBe(30);
  });

  it('a watch is bounded: it gives up before a peer that answers in 1 s, however long the waits it predicts from', () => {
    const w = new SpinWatch(0.05, 0.25);
    for (let i = 0; i < 8; i++) w.waited(0.12); // predicts 0.24 ms: still worth a watch
    const t = now();
    const p = peer(Infinity);
    expect(w.watch(() => p.ready() || now() - t > 1000, t, true)).toBe(false);
    expect(p.looks).toBeGreaterThan(1); // it did watch
  });

  it('with other cells running: a miss skips the next 1, 2, 4 ... watches, and a hit resets that', () => {
    const w = new SpinWatch(0.05, 0.25);
    const skipped = () => {
      const p = peer(Infinity);
      w.watch(p.ready, now(), false);
      return p.looks === 1;
    };
    expect(skipped()).toBe(false); // a watch, missed: backoff 1
    expect(skipped()).toBe(true);
    expect(skipped()).toBe(false); // missed again: backoff 2
    expect([skipped(), skipped()]).toEqual([true, true]);
    const hit = peer(10);
    expect(w.watch(hit.ready, now(), false)).toBe(true);
    expect(hit.looks).toBe(10);
    expect(skipped()).toBe(false); // after a hit the next one watches again
  });
});

describe('WatchOrPark: whether the worker watches for replies at all', () => {
  const { EPOCH, PROBE } = WatchOrPark;
  /** Runs `epochs` epochs; each call's crossing (ms) depends on the choice it was made under. */
  const run = (c: WatchOrPark, epochs: number, crossing: (watching: boolean) => number) => {
    const choices: boolean[] = [];
    for (let e = 0; e < epochs; e++) {
      choices.push(c.watching);
      for (let i = 0; i < EPOCH; i++) c.record(crossing(c.watching));
    }
    return choices;
  };

  it('a quick watch is kept and parking is never tried', () => {
    const c = new WatchOrPark();
    expect(run(c, 4 * PROBE, (w) => (w ? 0.004 : 0.04)).every((w) => w)).toBe(true);
  });

  it('one slow epoch among quick ones (a preemption) changes nothing', () => {
    const c = new WatchOrPark();
    run(c, 3, () => 0.004);
    run(c, 1, () => 0.08);
    expect(run(c, 2 * PROBE, (w) => (w ? 0.004 : 0.04)).every((w) => w)).toBe(true);
  });

  it('when watching runs slow and parking costs less than half, it parks, tries a watch every PROBE-th epoch, and watches again once that pays', () => {
    const c = new WatchOrPark();
    let contended = true;
    const crossing = (w: boolean) => (contended ? (w ? 0.08 : 0.025) : w ? 0.004 : 0.04);
    const choices = run(c, 4 * PROBE, crossing);
    const parked = choices.filter((w) => !w).length;
    expect(parked).toBeGreaterThan(3 * PROBE); // mostly parked
    expect(choices.slice(PROBE).filter((w) => w).length).toBeGreaterThanOrEqual(2); // but it kept trying
    contended = false;
    const after = run(c, 2 * PROBE, crossing);
    expect(after.slice(-PROBE).every((w) => w)).toBe(true); // back to watching, and it stays
  });

  it('when both ways are slow alike (a slow machine, not a contended one) it keeps watching', () => {
    const c = new WatchOrPark();
    const choices = run(c, 4 * PROBE, () => 0.06);
    expect(choices.filter((w) => w).length).toBeGreaterThan(3 * PROBE);
  });
});
