// `npm run bench`: every figure that decides whether tooliscode is worth using, measured
// side by side with its peers in one run, and written to benchmarks/RESULTS.md (or
// printed as JSON with --json). Peers alternate within each benchmark, round by round,
// so that a busy moment of the machine does not land on one of them only.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { loadGuest } from '../runtime/guest.js';
import { packageRoot } from '../runtime/package-root.js';
import { compat, compatMarkdown } from './compat.js';
import { checkCost, checkMarkdown } from './check.js';
import { type SessionsAsData, sessionsAsData, sessionsAsDataMarkdown } from './sessions-as-data.js';
import { contextSizes } from './context-size.js';
import { loadMonty, montyHostCall, montyNewSandbox, montyRssPerRepl, montySpecifier } from './monty.js';
import { packageCost } from './packages.js';
import { jsonRpcRoundTrip, loadPyodideFresh, loadPyodideFromSnapshot, pyodideFfi, pyodideRun, timeToFirstOutput } from './peers.js';
import { type Stats, benchGuestDir, busyCoreCalls, cellAfterIdle, concurrentCalls, firstCalls, handlers, roundTrip, rssPerSession, stats, threadPingPong } from './runtime.js';
import { runIfMain } from './script.js';
import { type StartupResult, startupInChild, startupMarkdown } from './startup.js';
import { type Interpreter, montyInterpreter, nativeInterpreter, pyodideInterpreter, ticInterpreter, workloads, workloadsMarkdown } from './workloads.js';
import { workflow } from './workflow.js';
import { workspaceBench, workspaceMarkdown } from './workspace.js';

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const root = packageRoot();

/** Calls every peer once per round, in turn; returns each peer's samples. */
async function alternate(rounds: number, peers: Record<string, (round: number) => Promise<number | undefined>>): Promise<Record<string, Stats>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(peers).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, sample] of Object.entries(peers)) {
      // Let the previous peer's leftovers settle first: its garbage (Pyodide leaves tens of
      // MB per interpreter) and V8's background compile jobs would otherwise land in the
      // next peer's sample on a 2-core machine.
      (globalThis as { gc?: () => void }).gc?.();
      await new Promise((resolve) => setTimeout(resolve, 150));
      const v = await sample(r);
      if (v !== undefined) samples[name]!.push(v);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
}

async function coldStart(): Promise<Record<string, Stats>> {
  log('1/6 whole-process cold start (node start -> first output), 8 rounds');
  const tic = join(root, 'bin', 'tic.js');
  const pyodide = "import { loadPyodide } from 'pyodide'; const py = await loadPyodide(); py.runPython('print(1)');";
  // Monty as npm run bench installed it (.bench-peers/), not by its bare name: the package folder's node_modules has none.
  const monty = `import { Monty } from ${JSON.stringify(montySpecifier())}; new Monty('print(1)').run();`;
  const hasMonty = (await loadMonty()).monty !== undefined;
  return alternate(8, {
    'tooliscode (snapshot)': () => timeToFirstOutput([process.execPath, tic, 'run', '-c', 'print(1)']),
    'tooliscode (no snapshot)': () => timeToFirstOutput([process.execPath, tic, 'run', '--no-snapshot', '-c', 'print(1)']),
    'Pyodide (loadPyodide)': () => timeToFirstOutput([process.execPath, '--input-type=module', '-e', pyodide]),
    ...(hasMonty ? { 'Monty (new Monty(code).run())': () => timeToFirstOutput([process.execPath, '--input-type=module', '-e', monty], process.env, root) } : {}),
    'node -e (floor)': () => timeToFirstOutput([process.execPath, '-e', 'console.log(1)']),
  });
}

async function sessionStarts(dir: string): Promise<Record<string, Stats>> {
  log('2/6 session start (to the first cell\'s result), 12 rounds');
  const warm = await loadGuest(dir, { warm: 1 });
  const cold = await loadGuest(dir, { warm: 0 });
  await loadPyodideFromSnapshot(); // makes the snapshot once, outside the timing
  const { monty } = await loadMonty();
  const timed = async (fn: () => Promise<void>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  /** createSession + the first cell, timed; the session is closed after the clock stops. */
  const sessionOf = async (guest: typeof warm) => {
    let s: Awaited<ReturnType<typeof guest.createSession>> | undefined;
    const ms = await timed(async () => {
      s = await guest.createSession();
      await s.run('1');
    });
    await s!.close();
    return ms;
  };
  const result = await alternate(12, {
    'tooliscode, warm worker': async () => {
      await warm.ready();
      return sessionOf(warm);
    },
    'tooliscode, cold worker': () => sessionOf(cold),
    'Pyodide from its memory snapshot': () => timed(async () => void (await loadPyodideFromSnapshot()).runPython('1')),
    // Fresh Pyodide takes seconds: 4 rounds of 12 are enough for its figure.
    'Pyodide, fresh loadPyodide()': (r) => (r < 4 ? timed(async () => void (await loadPyodideFresh()).runPython('1')) : Promise.resolve(undefined)),
    ...(monty ? { 'Monty, new Monty(code).run() (no interpreter state to start)': async () => montyNewSandbox(monty) } : {}),
  });
  await warm.close();
  return result;
}

async function callbacks(dir: string) {
  log('3/6 callback latency (Python -> host -> Python)');
  const rt = await roundTrip(dir);
  const first = firstCalls(dir);
  const busy = await busyCoreCalls(dir);
  const concurrent: Record<number, number> = {};
  for (const k of [1, 4, 20]) concurrent[k] = await concurrentCalls(dir, k);
  const floor = await threadPingPong();
  const ffi = await pyodideFfi();
  const rpc = await jsonRpcRoundTrip();
  const { monty } = await loadMonty();
  const montyCall = monty ? montyHostCall(monty) : undefined;
  return {
    'tooliscode, sync handler': rt.sync,
    'tooliscode, sync handler, first 2 000 calls of a new process (3 processes)': first,
    'tooliscode, sync handler, another process keeping one core busy': busy,
    'tooliscode, async handler': rt.async,
    'Pyodide sync FFI call (in-thread, no isolation)': ffi,
    ...(montyCall ? { 'Monty external function (in-thread; per call over a loop of 3 000, minus the bare loop)': montyCall } : {}),
    'stdio JSON-RPC child process (an MCP call over stdio)': rpc,
    'floor: worker <-> main wake-up (Atomics), no work': floor,
    'floor: direct JavaScript call of the handler': rt.jsFloor,
    aioGatherPerCallUs: rt.aioGather,
    concurrentUsPerCall: concurrent,
  };
}

const CPU_CELL = `import time
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
t = time.perf_counter()
fib(24)
s = sum(i * i for i in range(1_000_000))
d = {str(i): i for i in range(200_000)}
w = sorted(" ".join(str(i) for i in range(100_000)).split())
result = (time.perf_counter() - t) * 1000`;

async function throughput(dir: string) {
  log('4/6 throughput and memory');
  const guest = await loadGuest(dir, { warm: 0 });
  const s = await guest.createSession({ handlers, limits: { timeoutMs: 120_000 } });
  // Cells per second on a small compute cell, over about a second.
  for (let i = 0; i < 50; i++) await s.run('x = sum(range(100))');
  let cells = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) {
    await s.run('x = sum(range(100))');
    cells++;
  }
  const cellsPerSecond = cells / ((performance.now() - t0) / 1000);
  const cpu = await alternate(5, {
    'tooliscode (CPython 3.11, wasm32-wasi)': async () => Number((await s.run(`${CPU_CELL}\nresult`)).value),
    'Pyodide (CPython 3.14, emscripten)': async () => Number(await pyodideRun(CPU_CELL)),
    'native python3.11': async () => Number(execFileSync('/usr/bin/python3.11', ['-c', `${CPU_CELL}\nprint(result)`], { encoding: 'utf8' })),
  });
  log('   the five CPU workloads, 3 rounds');
  const { monty } = await loadMonty();
  const montyErrors: Record<string, string> = {};
  const interpreters: Record<string, Interpreter> = {
    tooliscode: ticInterpreter(s),
    Pyodide: pyodideInterpreter,
    ...(monty ? { Monty: montyInterpreter(monty, montyErrors) } : {}),
    'native python3.11': nativeInterpreter(),
  };
  const five = await workloads(interpreters, 'native python3.11', 3, montyErrors);
  await s.close();
  const rss = [1, 10, 50, 100].map((n) => {
    log(`   RSS with ${n} idle session(s)`);
    return rssPerSession(dir, n);
  });
  log('   a cell after 20 ms idle, parked and not, 30 rounds');
  const afterIdle = await cellAfterIdle(dir);
  const pyodideRss = pyodideRssPerInterpreter();
  const montyRss = monty ? montyRssPerRepl() : undefined;
  return { cellsPerSecond, cpu, five, rss, afterIdle, pyodideRss, montyRss };
}

/** RSS added per Pyodide interpreter (from its snapshot), measured in a fresh process. */
function pyodideRssPerInterpreter(): number {
  const script = `import { loadPyodide } from 'pyodide';
    const maker = await loadPyodide({ _makeSnapshot: true });
    const snap = maker.makeMemorySnapshot();
    const keep = [await loadPyodide({ _loadSnapshot: snap })];
    globalThis.gc?.(); const before = process.memoryUsage().rss;
    for (let i = 0; i < 3; i++) keep.push(await loadPyodide({ _loadSnapshot: snap }));
    globalThis.gc?.(); console.log((process.memoryUsage().rss - before) / 3 / 2 ** 20);`;
  return Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

/** A table of Stats; the last column is each row's median over the `reference` row's. */
function statsTable(title: string, unit: string, rows: Record<string, Stats>, reference: string, d = 1): string[] {
  const floor = rows[reference]?.median;
  const lines = [`| ${title} | median | p90 | min | max |${floor ? ` x ${reference} |` : ''}`, `| --- | ---: | ---: | ---: | ---: |${floor ? ' ---: |' : ''}`];
  for (const [name, s] of Object.entries(rows)) {
    lines.push(`| ${name} | ${f(s.median, d)} ${unit} | ${f(s.p90, d)} ${unit} | ${f(s.min, d)} ${unit} | ${f(s.max, d)} ${unit} |${floor ? ` ${f(s.median / floor, 2)}x |` : ''}`);
  }
  return lines;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const started = Date.now();
  log('building the benchmark guest');
  const dir = await benchGuestDir();
  const cold = await coldStart();
  const sessions = await sessionStarts(dir);
  const calls = await callbacks(dir);
  const tp = await throughput(dir);
  log('library import and a new process to the first output, 10 rounds');
  const start = startupInChild(dir, 10);
  log('compatibility: typical cells in tooliscode, Monty and Pyodide against native python3.11');
  const compatibility = await compat(['tooliscode', 'monty', 'pyodide'], log);
  const montyInfo = await loadMonty();
  log('5/6 workspace size (one file against 5,000 files + 100 MB), 7 rounds');
  const workspace = await workspaceBench(dir, log);
  const check = await checkCost(dir, log);
  log('sessions as data: checkpoint, restore, 1,000 hibernated sessions');
  const asData = await sessionsAsData(dir, 7, 1000);
  log('6/6 context size');
  const fixtures = join(root, 'conformance', 'fixtures', 'mcp-tools');
  const context = contextSizes(['everything', 'filesystem', 'memory', 'github'].map((n) => join(fixtures, `${n}.json`)).concat(join(root, 'examples', 'issues', 'tools.json')));
  const flow = await workflow(log);
  log('packages: what a preloaded package costs');
  const packages = await packageCost(join(dirname(dir), 'tools.json'), dirname(dir), log);
  const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
  const { aioGatherPerCallUs, concurrentUsPerCall, ...callRows } = calls;
  const results = { machine, coldStart: cold, sessionStart: sessions, callbacks: callRows, aioGatherPerCallUs, concurrentUsPerCall, throughput: tp, startup: start, compatibility, workspace, check, asData, context, workflow: flow, packages: packages.rows, seconds: (Date.now() - started) / 1000 };
  if (json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const nodeFloor = cold['node -e (floor)']!.median;
  const warm = sessions['tooliscode, warm worker']!.median;
  const md = [
    '# Benchmark results',
    '',
    ...targetsMarkdown(results),
    '',
    `Written by \`npm run bench\` on ${machine.date.slice(0, 10)}: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}. The run took ${f(results.seconds, 0)} s. Peers alternate round by round inside each benchmark. Re-run it to measure your machine; \`npm run bench -- --json\` gives the raw figures.`,
    '',
    montyInfo.monty ? `Peers: Pyodide (npm \`pyodide\`), \`@pydantic/monty\` ${montyInfo.version ?? ''} (a Python subset in Rust, a native addon; it runs in the host's thread with no interpreter state to start), native \`/usr/bin/python3.11\`, a bare \`node -e\`.` : `Peers: Pyodide, native \`/usr/bin/python3.11\`, a bare \`node -e\`. Monty left out: ${montyInfo.missing}.`,
    '',
    '## 1. Whole-process cold start',
    '',
    'Milliseconds from spawning `node` to the first byte a cell prints (`print(1)`), 8 rounds.',
    '',
    ...statsTable('process', 'ms', cold, 'node -e (floor)', 0),
    '',
    `Target: <= 1.5x \`node -e\`. tooliscode with the snapshot is at ${f(cold['tooliscode (snapshot)']!.median / nodeFloor, 2)}x.`,
    '',
    '## 2. Session start',
    '',
    'Milliseconds from asking for a new interpreter (a compiled guest already loaded in the process) to the result of its first cell `1`, 12 rounds (fresh Pyodide 4).',
    '',
    ...statsTable('session', 'ms', sessions, 'tooliscode, warm worker', 2),
    '',
    `Target: <= 5 ms p50. tooliscode from a warm worker: ${f(warm, 2)} ms. A warm worker is one \`loadGuest\` keeps instantiated in the background (\`warm\`, default 1); the cold figure is a new worker thread plus instantiating the snapshot.`,
    '',
    '## 3. Callback latency',
    '',
    'Microseconds per call of a trivial handler as Python sees it (`time.perf_counter_ns` around each call; 3 000 calls after 20 000 that warm the path: V8 optimizes the eval loop 100-200 ms into a process, and a new process\'s first 2 000 calls have their own row). tooliscode runs the guest in a worker and the handler on the host\'s event loop; Pyodide calls JavaScript in the same thread (and its FFI can reach the host\'s globals).',
    '',
    ...statsTable('call', 'us', callRows, 'tooliscode, async handler'),
    '',
    'The row with another process keeping one core busy (`node -e "for (;;) {}"`): a noisy neighbour, 3 x 2 000 calls after 20 000 to warm up; on two cores, V8 compiling the guest in the background does the same to a new process\'s first calls.',
    '',
    `\`asyncio.gather\` of 100 \`aio\` calls: ${f(aioGatherPerCallUs)} us per call (median of 30 gathers after 10 to warm up). Target: async round trip <= 30 us p50.`,
    '',
    `Sessions calling at once (40 000 sync calls in all, split over K sessions whose cells run together; wall time per call): ${Object.entries(concurrentUsPerCall).map(([k, us]) => `K = ${k}: ${f(us)} us`).join(', ')}. The main thread runs every handler; on ${machine.cores} cores the sessions share what it leaves.`,
    '',
    '## 4. Throughput and memory',
    '',
    `Cells per second on \`x = sum(range(100))\` in one session: ${f(tp.cellsPerSecond, 0)}.`,
    '',
    'A CPU-bound cell (fib(24), a million-term sum, a 200 000-key dict, sorting 100 000 strings), milliseconds, 5 rounds:',
    '',
    ...statsTable('interpreter', 'ms', tp.cpu, 'native python3.11', 0),
    '',
    'The five CPU workloads of issue #21 (the same code everywhere; milliseconds, median of 3 rounds, and the ratio to native):',
    '',
    ...workloadsMarkdown(tp.five, 'native python3.11'),
    '',
    `Target: CPU-bound Python <= 1.5x native CPython 3.11 (geometric mean of the five). tooliscode: ${tp.five.geomean.tooliscode !== undefined ? `${f(tp.five.geomean.tooliscode, 2)}x (${tp.five.geomean.tooliscode <= 1.5 ? 'met' : 'not met'})` : 'n/a'}.`,
    '',
    '| idle sessions | RSS per session | process RSS |',
    '| ---: | ---: | ---: |',
    ...tp.rss.map((r) => `| ${r.count} | ${f(r.perSessionMb)} MB | ${f(r.totalMb, 0)} MB |`),
    '',
    `Pyodide, per interpreter started from its snapshot: ${f(tp.pyodideRss)} MB.${tp.montyRss !== undefined ? ` Monty, per idle \`MontyRepl\` that ran one cell (100 of them): ${f(tp.montyRss, 2)} MB.` : ''} Target: idle session <= 12 MB.`,
    '',
    `An idle session is parked: its memory, without a thread (README, "How a session works"). What that costs the next cell, \`x += 1\` after 20 ms idle, 30 rounds interleaved: ${f(tp.afterIdle.parked.median, 2)} ms p50 (p90 ${f(tp.afterIdle.parked.p90, 2)}) parked, ${f(tp.afterIdle.kept.median, 2)} ms p50 (p90 ${f(tp.afterIdle.kept.p90, 2)}) with \`park: false\`.`,
    '',
    '## 5. Context size',
    '',
    'Tokens (o200k, gpt-tokenizer) of the tool definitions as compact JSON (name, description, input schema) against `prompt.md` in each style.',
    '',
    '| tool list | tools | JSON | full | compact | index |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...context.map((r) => `| ${r.fixture} | ${r.tools} | ${r.jsonTokens} | ${['full', 'compact', 'index'].map((s) => `${r.prompt[s]!.tokens} (${Math.round(r.prompt[s]!.ratio * 100)}%)`).join(' | ')} |`),
    '',
    'Target: prompt <= 40% of the JSON tool tokens.',
    '',
    ...flow.markdown,
    '',
    ...workspaceMarkdown(workspace),
    '',
    ...checkMarkdown(check),
    '',
    ...sessionsAsDataMarkdown(asData),
    '',
    ...packages.markdown,
    '',
    ...startupMarkdown(start, '8'),
    '',
    ...compatMarkdown(compatibility, '9'),
    '',
  ].join('\n');
  writeFileSync(join(root, 'benchmarks', 'RESULTS.md'), md);
  log(`wrote benchmarks/RESULTS.md in ${f(results.seconds, 0)} s`);
}

runIfMain(import.meta.url, main);


/** The issues' targets, each with this run's figure and whether it is met: the table the README copies. */
function targetsMarkdown(r: {
  coldStart: Record<string, Stats>;
  sessionStart: Record<string, Stats>;
  callbacks: Record<string, Stats>;
  aioGatherPerCallUs: number;
  throughput: { five: { geomean: Record<string, number | undefined> }; rss: { count: number; perSessionMb: number }[] };
  startup: StartupResult;
  asData: SessionsAsData;
}): string[] {
  const floor = r.startup.process['node -e (floor)']!.median;
  const coldFloor = r.coldStart['node -e (floor)']!.median;
  const imp = r.startup.process["import('tooliscode'), then print"]!.median - floor;
  const lib = r.startup.process['library: loadGuest + createSession + first cell']!.median / floor;
  const tic = r.coldStart['tooliscode (snapshot)']!.median / coldFloor;
  const cpu = r.throughput.five.geomean.tooliscode;
  const sync = r.callbacks['tooliscode, sync handler']!.median;
  const firstSync = r.callbacks['tooliscode, sync handler, first 2 000 calls of a new process (3 processes)']!.median;
  const idle = r.throughput.rss.find((x) => x.count === 50) ?? r.throughput.rss[r.throughput.rss.length - 1]!;
  const warm = r.sessionStart['tooliscode, warm worker']!.median;
  const d = r.asData;
  const hib = d.hibernated;
  const row = (what: string, value: string, target: string, met: boolean | undefined) => `| ${what} | ${value} | ${target} | ${met === undefined ? 'n/a' : met ? 'met' : 'not met'} |`;
  return [
    '## Targets',
    '',
    '| measure | this run | target | |',
    '| --- | ---: | ---: | --- |',
    row("`import('tooliscode')`, new process, over `node -e` (section 8)", `${f(imp, 0)} ms`, '<= 40 ms', imp <= 40),
    row("new process to a cell's first output through the library (section 8)", `${f(lib, 2)}x \`node -e\``, '<= 2x', lib <= 2),
    row('`tic run -c "print(1)"`, new process to the first output (section 1)', `${f(tic, 2)}x \`node -e\``, '<= 1.5x', tic <= 1.5),
    row('five CPU workloads, geometric mean vs native python3.11 (section 4)', cpu === undefined ? 'n/a' : `${f(cpu, 2)}x`, '<= 1.5x', cpu === undefined ? undefined : cpu <= 1.5),
    row('Python -> sync handler -> Python, p50 (section 3)', `${f(sync, 1)} us`, '<= 20 us', sync <= 20),
    row('the same over the first 2 000 calls of a new process (section 3)', `${f(firstSync, 1)} us`, '<= 20 us', firstSync <= 20),
    row('`asyncio.gather` of 100 `aio` calls, per call, median of 30 (section 3)', `${f(r.aioGatherPerCallUs, 1)} us`, '<= 30 us', r.aioGatherPerCallUs <= 30),
    row(`RSS per live idle session, ${idle.count} sessions (section 4)`, `${f(idle.perSessionMb, 1)} MB`, '<= 12 MB', idle.perSessionMb <= 12),
    row('session start from a warm worker, p50 (section 2)', `${f(warm, 2)} ms`, '<= 5 ms', warm <= 5),
    row('checkpoint of the data session (Sessions as data)', `${f(d.checkpointMs.median, 1)} ms, ${f(d.checkpointBytes / 2 ** 20, 2)} MB`, '<= 20 ms and 2 MB', d.checkpointMs.median <= 20 && d.checkpointBytes <= 2 * 2 ** 20),
    row("restore to the next cell's result, warm worker", `${f(d.restoreToResultMs.median, 1)} ms`, '<= 15 ms', d.restoreToResultMs.median <= 15),
    row(`${hib.sessions} hibernated sessions, RSS in all`, `${f(hib.rssMb, 0)} MB`, `<= ${f((150 * hib.sessions) / 1000, 0)} MB`, hib.rssMb <= (150 * hib.sessions) / 1000),
  ];
}
