// Runtime measurements for `npm run bench` (index.ts): the Python -> host handler ->
// Python round trip, the cross-thread floor under it, and RSS per idle session.
//
// The JavaScript floor is timed by tinybench on the host. The round trip is timed inside
// the guest (time.perf_counter_ns around each SDK call), because that is the latency a
// cell sees. RSS is measured in a child process per count so that nothing else of this
// process is in the figure.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { build } from '../compiler/build.js';
import { runIfMain } from './script.js';
import { loadGuest } from '../runtime/guest.js';
import type { RunResult, Session } from '../runtime/session.js';

const TOOLS = [
  { name: 'ping', description: 'Answers at once (sync handler).', inputSchema: { type: 'object', properties: { n: { type: 'integer' } } } },
  { name: 'ping_async', description: 'Answers at once (async handler).', inputSchema: { type: 'object', properties: { n: { type: 'integer' } } } },
];

export const handlers = {
  ping: ({ n }: { n?: number }) => n ?? 0,
  ping_async: async ({ n }: { n?: number }) => n ?? 0,
};

export async function benchGuestDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tic-bench-'));
  writeFileSync(join(dir, 'tools.json'), JSON.stringify({ tools: TOOLS }));
  await build({ inputs: [join(dir, 'tools.json')], outDir: join(dir, 'dist'), log: () => {} });
  return join(dir, 'dist');
}

export interface Stats {
  median: number;
  p90: number;
  min: number;
  max: number;
  samples: number;
}

export function stats(values: number[]): Stats {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))]!;
  return { median: at(0.5), p90: at(0.9), min: v[0]!, max: v[v.length - 1]!, samples: v.length };
}

/** The task's latency samples (ms), summarized like every other figure here. */
function fromTask(bench: Bench, name: string): Stats {
  const r = bench.getTask(name)?.result;
  const samples = r && 'latency' in r ? r.latency.samples : undefined;
  if (!samples?.length) throw new Error(`benchmark ${name} did not run`);
  return stats(samples);
}

/** Microseconds per SDK call as the cell sees it, sync and async handler; and the JS floor. */
/** A cell that calls `tools.<tool>` `calls` times in a loop and returns each call's nanoseconds (as JSON). */
const callLoop = (tool: string, calls: number) =>
  `import time, json\nts = []\nfor i in range(${calls}):\n    t = time.perf_counter_ns()\n    tools.${tool}(n=i)\n    ts.append(time.perf_counter_ns() - t)\njson.dumps(ts)`;

/** The microseconds per call of a callLoop cell's result. */
function callTimes(r: RunResult): number[] {
  if (!r.ok) throw new Error(r.error!.traceback);
  return (JSON.parse(JSON.parse(r.value!.replace(/^'|'$/g, '"')) as string) as number[]).map((ns) => ns / 1000);
}

export async function roundTrip(dir: string, calls = 3000): Promise<{ sync: Stats; async: Stats; aioGather: number; jsFloor: Stats }> {
  const guest = await loadGuest(dir, { warm: 0 });
  const s = await guest.createSession({ handlers });
  // A call in steady state: 20,000 calls first, as busyCoreCalls does, so that V8 has
  // optimized the eval loop (100-200 ms into a process: after 200 calls, as this was, the
  // measure straddled that compile and its p50 went 14-41 us from one process to the next).
  // A new process's first calls have their own row (firstCalls).
  const measure = async (tool: string) => {
    await s.run(callLoop(tool, 20_000));
    return stats(callTimes(await s.run(callLoop(tool, calls))));
  };
  const sync = await measure('ping');
  const asyncStats = await measure('ping_async');
  // Throughput of concurrent aio calls: microseconds per call in a gather of 100, the
  // median of 30 gathers after 10 to warm the path (as the calls above are warmed; the
  // first gathers of a session run in code V8 has not optimized yet, at 2-5x the time).
  const g = await s.run(
    'import asyncio, time\nasync def main():\n    t = time.perf_counter_ns()\n    await asyncio.gather(*[tools.aio.ping_async(n=i) for i in range(100)])\n    return (time.perf_counter_ns() - t) / 100 / 1000\n' +
      'for _ in range(10): asyncio.run(main())\nsorted(asyncio.run(main()) for _ in range(30))[15]',
  );
  if (!g.ok) throw new Error(g.error!.traceback);
  await s.close();
  const bench = new Bench({ iterations: 20_000, time: 0, retainSamples: true });
  bench.add('js', async () => {
    await handlers.ping_async({ n: 1 });
  });
  await bench.run();
  const floor = fromTask(bench, 'js');
  const us = (st: Stats): Stats => ({ ...st, median: st.median * 1000, p90: st.p90 * 1000, min: st.min * 1000, max: st.max * 1000 });
  return { sync, async: asyncStats, aioGather: Number(g.value), jsFloor: us(floor) };
}

/**
 * The floor under any cross-thread call on this machine: microseconds for a worker to
 * wake the main thread and be woken back (Atomics.notify / Atomics.waitAsync / Atomics.wait),
 * with no work in between. A session's round trip is this plus the call's own work.
 */
export async function threadPingPong(rounds = 5000): Promise<Stats> {
  const { Worker } = await import('node:worker_threads');
  const sab = new SharedArrayBuffer(8);
  const a = new Int32Array(sab);
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const a = new Int32Array(workerData.sab); const ts = [];
     for (let i = 0; i < workerData.rounds; i++) {
       const t = process.hrtime.bigint();
       Atomics.store(a, 1, 0); Atomics.store(a, 0, 1); Atomics.notify(a, 0);
       Atomics.wait(a, 1, 0);
       ts.push(Number(process.hrtime.bigint() - t) / 1000);
     }
     parentPort.postMessage(ts.slice(200));`,
    { eval: true, workerData: { sab, rounds } },
  );
  const serve = (): void => {
    const w = Atomics.waitAsync(a, 0, 0);
    const answer = () => {
      Atomics.store(a, 0, 0);
      Atomics.store(a, 1, 1);
      Atomics.notify(a, 1);
      serve();
    };
    if (w.async) void w.value.then(answer);
    else answer();
  };
  serve();
  const samples = await new Promise<number[]>((resolve) => worker.once('message', resolve));
  await worker.terminate();
  Atomics.store(a, 0, 1);
  Atomics.notify(a, 0); // release the last parked waitAsync
  return stats(samples);
}

/**
 * Milliseconds to a small cell's result after its session sat idle 20 ms: parked (the
 * default: the cell first takes a worker and instantiates the module on the session's
 * memory) and with `park: false` (the session kept its thread), rounds interleaved.
 */
export async function cellAfterIdle(dir: string, rounds = 30): Promise<{ parked: Stats; kept: Stats }> {
  const variants = await Promise.all(
    [true, false].map(async (park) => {
      const guest = await loadGuest(dir, { warm: 1, park });
      const session = await guest.createSession({ handlers });
      await session.run('x = 0');
      return { guest, session, ms: [] as number[] };
    }),
  );
  for (let i = 0; i < rounds; i++) {
    for (const v of variants) {
      await new Promise((r) => setTimeout(r, 20));
      const t = performance.now();
      const r = await v.session.run('x += 1');
      if (!r.ok) throw new Error(r.error!.traceback);
      v.ms.push(performance.now() - t);
    }
  }
  for (const v of variants) {
    await v.session.close();
    await v.guest.close();
  }
  return { parked: stats(variants[0]!.ms), kept: stats(variants[1]!.ms) };
}

/**
 * Sessions calling at once: `k` sessions each run a cell of `total / k` sync calls, all
 * started together (after a warm-up cell each); microseconds of wall time per call overall.
 */
export async function concurrentCalls(dir: string, k: number, total = 40_000): Promise<number> {
  const guest = await loadGuest(dir, { warm: 0 });
  const sessions = await Promise.all(Array.from({ length: k }, () => guest.createSession({ handlers })));
  const cell = (n: number) => `for i in range(${n}):\n    tools.ping(n=i)`;
  await Promise.all(sessions.map((s) => s.run(cell(200))));
  const n = Math.round(total / k);
  const t = performance.now();
  const results = await Promise.all(sessions.map((s) => s.run(cell(n))));
  const ms = performance.now() - t;
  for (const r of results) if (!r.ok) throw new Error(r.error!.traceback);
  await Promise.all(sessions.map((s) => s.close()));
  await guest.close();
  return (ms * 1000) / (n * k);
}

/**
 * Microseconds per sync call over the first `calls` of a new process (no warm-up: V8 is still
 * compiling the guest and this path): what a host that just started sees. Samples of
 * `processes` processes, pooled.
 */
export function firstCalls(dir: string, calls = 2000, processes = 3): Stats {
  const samples: number[] = [];
  for (let i = 0; i < processes; i++) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--first-calls-child', dir, String(calls)], { encoding: 'utf8' });
    samples.push(...(JSON.parse(out) as number[]));
  }
  return stats(samples);
}

async function firstCallsChild(dir: string, calls: number): Promise<void> {
  const guest = await loadGuest(dir);
  const s = await guest.createSession({ handlers });
  process.stdout.write(JSON.stringify(callTimes(await s.run(callLoop('ping', calls)))));
  await s.close();
  await guest.close();
}

/**
 * Microseconds per sync call while another process keeps one of the cores busy (a noisy
 * neighbour; on two cores, what V8's background compiles also do): 3 x 2,000 calls after
 * 20,000 that warm the path, pooled.
 */
export async function busyCoreCalls(dir: string): Promise<Stats> {
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 200));
    const guest = await loadGuest(dir, { warm: 0 });
    const s = await guest.createSession({ handlers });
    callTimes(await s.run(callLoop('ping', 20_000)));
    const samples: number[] = [];
    for (let k = 0; k < 3; k++) samples.push(...callTimes(await s.run(callLoop('ping', 2000))));
    await s.close();
    await guest.close();
    return stats(samples);
  } finally {
    busy.kill();
  }
}

/** RSS added per idle session (each has run one cell), measured in a fresh process. */
export function rssPerSession(dir: string, count: number): { count: number; perSessionMb: number; totalMb: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--rss-child', dir, String(count)], { encoding: 'utf8' });
  return JSON.parse(out) as { count: number; perSessionMb: number; totalMb: number };
}

async function rssChild(dir: string, count: number): Promise<void> {
  const guest = await loadGuest(dir, { warm: 0 });
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // One session first, so that what every process pays once (the compiled module, the
  // shared stdlib) is not counted per session.
  const first = await guest.createSession();
  await first.run('1');
  await settle();
  const before = process.memoryUsage().rss;
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    const s = await guest.createSession();
    await s.run('x = [i * i for i in range(1000)]\nlen(x)');
    sessions.push(s);
  }
  await settle();
  const after = process.memoryUsage().rss;
  process.stdout.write(JSON.stringify({ count, perSessionMb: (after - before) / count / 2 ** 20, totalMb: after / 2 ** 20 }));
  await Promise.all([first, ...sessions].map((s) => s.close()));
}

// `npm run bench` (index.ts) reports these; this module runs on its own only as the
// child process that rssPerSession measures.
runIfMain(import.meta.url, async () => {
  if (process.argv[2] === '--rss-child') await rssChild(process.argv[3]!, Number(process.argv[4]));
  if (process.argv[2] === '--first-calls-child') await firstCallsChild(process.argv[3]!, Number(process.argv[4]));
  // Section 3's round trip alone, in a process of its own: `node build/benchmarks/runtime.js --calls [DIR]`.
  if (process.argv[2] === '--calls') {
    const dir = process.argv[3] ?? (await benchGuestDir());
    for (let round = 1; round <= 3; round++) {
      const r = await roundTrip(dir);
      console.log(`round ${round}: sync handler p50 ${r.sync.median.toFixed(1)} us (p90 ${r.sync.p90.toFixed(1)}), async handler p50 ${r.async.median.toFixed(1)} us, asyncio.gather of 100: ${r.aioGather.toFixed(1)} us per call`);
    }
    process.exit(0);
  }
});
