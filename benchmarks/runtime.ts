// Runtime figures: session start (warm worker and cold), the Python -> host handler ->
// Python round trip, and RSS per idle session. Run: npm run bench:runtime [-- --json]
//
// Session start and the JavaScript floor are timed by tinybench on the host. The round
// trip is timed inside the guest (time.perf_counter_ns around each SDK call), because
// that is the latency a cell sees. RSS is measured in a child process per count so that
// nothing else of this process is in the figure.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { build } from '../compiler/build.js';
import { runIfMain } from './script.js';
import { loadGuest } from '../runtime/guest.js';
import type { Session } from '../runtime/session.js';

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

/** Milliseconds from createSession to the first cell's result. */
export async function sessionStart(dir: string): Promise<{ warm: Stats; cold: Stats }> {
  const warmGuest = await loadGuest(dir, { warm: 1 });
  const coldGuest = await loadGuest(dir, { warm: 0 });
  const bench = new Bench({ iterations: 30, warmupIterations: 3, time: 0, retainSamples: true });
  let s: Session | undefined;
  const close = async () => {
    await s?.close();
    s = undefined;
  };
  bench
    .add('warm', async () => {
      s = await warmGuest.createSession();
      await s.run('1');
    }, { beforeEach: () => warmGuest.ready(), afterEach: close })
    .add('cold', async () => {
      s = await coldGuest.createSession();
      await s.run('1');
    }, { afterEach: close });
  await bench.run();
  await warmGuest.close();
  return { warm: fromTask(bench, 'warm'), cold: fromTask(bench, 'cold') };
}

/** Microseconds per SDK call as the cell sees it, sync and async handler; and the JS floor. */
export async function roundTrip(dir: string, calls = 3000): Promise<{ sync: Stats; async: Stats; aioGather: number; jsFloor: Stats }> {
  const guest = await loadGuest(dir, { warm: 0 });
  const s = await guest.createSession({ handlers });
  const cell = (tool: string) =>
    `import time, json\nts = []\nfor i in range(${calls}):\n    t = time.perf_counter_ns()\n    tools.${tool}(n=i)\n    ts.append(time.perf_counter_ns() - t)\njson.dumps(ts)`;
  const measure = async (tool: string) => {
    await s.run(cell(tool).replace(String(calls), '200')); // warm the path
    const r = await s.run(cell(tool));
    if (!r.ok) throw new Error(r.error!.traceback);
    return stats((JSON.parse(JSON.parse(r.value!.replace(/^'|'$/g, '"')) as string) as number[]).map((ns) => ns / 1000));
  };
  const sync = await measure('ping');
  const asyncStats = await measure('ping_async');
  // Throughput of concurrent aio calls: microseconds per call in a gather of 100.
  const g = await s.run('import asyncio, time\nasync def main():\n    t = time.perf_counter_ns()\n    await asyncio.gather(*[tools.aio.ping_async(n=i) for i in range(100)])\n    return (time.perf_counter_ns() - t) / 100 / 1000\nasyncio.run(main())\nasyncio.run(main())');
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

const f = (n: number, d = 1) => n.toFixed(d);
const row = (name: string, s: Stats, unit: string, d = 1) => `| ${name} | ${f(s.median, d)} ${unit} | ${f(s.p90, d)} ${unit} | ${f(s.min, d)} ${unit} | ${f(s.max, d)} ${unit} |`;

async function main(): Promise<void> {
  if (process.argv[2] === '--rss-child') return rssChild(process.argv[3]!, Number(process.argv[4]));
  const json = process.argv.includes('--json');
  process.stderr.write('bench: building the benchmark guest\n');
  const dir = await benchGuestDir();
  process.stderr.write('bench: session start\n');
  const start = await sessionStart(dir);
  process.stderr.write('bench: round trips\n');
  const rt = await roundTrip(dir);
  const floor = await threadPingPong();
  process.stderr.write('bench: RSS per idle session (1, 10, 100)\n');
  const rss = [1, 10, 100].map((n) => rssPerSession(dir, n));
  if (json) {
    process.stdout.write(`${JSON.stringify({ sessionStart: start, roundTrip: rt, threadPingPong: floor, rss }, null, 2)}\n`);
    return;
  }
  const lines = [
    '| measure | median | p90 | min | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('session start, warm worker (createSession + first cell)', start.warm, 'ms', 2),
    row('session start, cold (new worker + instantiate + first cell)', start.cold, 'ms', 2),
    row('round trip Python -> sync handler -> Python', rt.sync, 'us'),
    row('round trip Python -> async handler -> Python', rt.async, 'us'),
    row('floor: awaiting the async handler directly in JS', rt.jsFloor, 'us', 2),
    row('floor: worker <-> main thread wake-up, no work (Atomics)', floor, 'us'),
    '',
    `aio: ${f(rt.aioGather)} us per call in asyncio.gather of 100 calls`,
    '',
    '| idle sessions | RSS per session | process RSS |',
    '| ---: | ---: | ---: |',
    ...rss.map((r) => `| ${r.count} | ${f(r.perSessionMb)} MB | ${f(r.totalMb, 0)} MB |`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

runIfMain(import.meta.url, main);
