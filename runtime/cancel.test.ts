// Cancelling a cell (session.interrupt(), RunOptions.signal): the cell stops with
// KeyboardInterrupt wherever it is, the session keeps its globals, the next cell runs.
import { describe, expect, it } from 'vitest';
import { testSessions } from '../test-setup/session.js';
import type { Handlers, RunResult, Session } from './session.js';

const { session: newSession } = testSessions({ warm: 1 });

async function session(handlers: Handlers = {}, graceMs = 2000): Promise<Session> {
  const s = await newSession({ handlers, limits: { timeoutMs: 60_000, graceMs } });
  await s.run('kept = "still here"');
  return s;
}

/** Runs `code`, and cancels it once `started` resolves (the cell printed "go"). */
async function cancelled(s: Session, code: string, how: 'interrupt' | 'signal'): Promise<RunResult> {
  const controller = new AbortController();
  let go!: () => void;
  const started = new Promise<void>((r) => (go = r));
  const run = s.run(code, { signal: controller.signal, onStdout: (t) => t.includes('go') && go() });
  await started;
  if (how === 'interrupt') s.interrupt();
  else controller.abort();
  return run;
}

const slow = { slow: (a: { ms: number }) => new Promise((r) => setTimeout(() => r(`slept ${a.ms}`), a.ms)) };

describe('cancelling a cell', () => {
  it('interrupts running Python with KeyboardInterrupt; the globals stay and the next cell runs', async () => {
    const s = await session();
    // `n` exists before "go": the interrupt may land at any point after it.
    const r = await cancelled(s, 'n = 0\nprint("go", flush=True)\nwhile True: n += 1', 'interrupt');
    expect(r.error).toMatchObject({ type: 'KeyboardInterrupt', message: 'the cell was cancelled' });
    expect((await s.run('kept, n >= 0')).value).toBe("('still here', True)");
  });

  it('fails a tool call in flight with KeyboardInterrupt; the late result is dropped, never handed to a later call', async () => {
    const s = await session(slow);
    const r = await cancelled(s, 'print("go", flush=True)\ntools.slow(ms=1500)', 'signal');
    expect(r.error?.type).toBe('KeyboardInterrupt');
    // The cancelled call answers while this cell waits on its own call.
    expect((await s.run('tools.slow(ms=2500)')).value).toBe("'slept 2500'");
  });

  it('ends an asyncio.gather of calls and a time.sleep', async () => {
    const s = await session(slow);
    const gather = await cancelled(s, 'import asyncio\nprint("go", flush=True)\nawait asyncio.gather(tools.aio.slow(ms=5000), tools.aio.slow(ms=6000))', 'signal');
    expect(gather.error?.type).toBe('KeyboardInterrupt');
    const sleep = await cancelled(s, 'import time\nprint("go", flush=True)\ntime.sleep(30)\nprint("slept")', 'interrupt');
    expect(sleep.error?.type).toBe('KeyboardInterrupt');
    expect(sleep.stdout).not.toContain('slept');
    expect((await s.run('kept')).value).toBe("'still here'");
  });

  it('never starts a cell whose signal was aborted while it waited in the queue', async () => {
    const s = await session(slow);
    const controller = new AbortController();
    const first = s.run('tools.slow(ms=300)');
    const second = s.run('kept = "overwritten"', { signal: controller.signal });
    controller.abort();
    expect((await first).ok).toBe(true);
    expect((await second).error).toMatchObject({ type: 'KeyboardInterrupt', message: 'the cell was cancelled before it started' });
    expect((await s.run('kept')).value).toBe("'still here'");
  });

  it('ends the session after graceMs when the cell swallows KeyboardInterrupt', async () => {
    const s = await session({}, 500);
    const r = await cancelled(s, 'while True:\n    try:\n        print("go", flush=True)\n        while True: pass\n    except KeyboardInterrupt:\n        pass', 'interrupt');
    expect(r.error?.type).toBe('SessionEnded');
    expect(r.error?.message).toMatch(/did not stop within 500 ms after it was cancelled/);
    expect(s.isClosed).toBe(true);
  });

  it('is a no-op between cells', async () => {
    const s = await session();
    s.interrupt();
    expect((await s.run('kept')).value).toBe("'still here'");
  });
});
