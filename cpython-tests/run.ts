// npm run test:cpython: CPython 3.11's own regression tests for the curated modules,
// each in a fresh guest instance, judged against the expected failures, with native
// python3.11 on the same files for comparison.
//
//   node build/cpython-tests/run.js [--only test_a,test_b] [--jobs N] [--no-native]
//                                   [--timeout SECONDS] [--json FILE] [--guest DIR]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Command, InvalidArgumentError } from 'commander';
import { BUILD_PYTHON } from '../guest/build/debian.js';
import { buildGuest, cacheRoot } from '../guest/build/index.js';
import { packageRoot } from '../runtime/package-root.js';
import { tuneV8ForGuest } from '../runtime/v8-tuning.js';
import {
  type Counts,
  type GuestJob,
  type GuestJobResult,
  type ModuleReport,
  type Outcomes,
  SuiteError,
  count,
  judge,
  parseDriverOutput,
  prepareTestTree,
  readExpected,
  readModules,
} from './suite.js';

const HERE = join(packageRoot(), 'cpython-tests');
const DRIVER = join(HERE, 'driver.py');

interface Options {
  only?: string;
  jobs: number;
  native: boolean;
  timeout: number;
  json?: string;
  guest?: string;
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

/** Runs `items` through `worker` with at most `jobs` at a time, keeping the order of results. */
async function pool<T, R>(items: T[], jobs: number, worker: (item: T, slot: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async (_, slot) => {
      while (next < items.length) {
        const i = next++;
        results[i] = await worker(items[i]!, slot);
      }
    }),
  );
  return results;
}

function runNative(testRoot: string, module: string, timeoutMs: number): Promise<GuestJobResult> {
  const started = Date.now();
  const cwd = mkdtempSync(join(tmpdir(), 'tic-cpython-tests-'));
  return new Promise((resolve) => {
    // The guest's terms: UTC, UTF-8, no user environment (-I).
    const child = spawn(BUILD_PYTHON, ['-I', DRIVER, testRoot, module], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('close', (code, signal) => {
      rmSync(cwd, { recursive: true, force: true });
      const wallSeconds = (Date.now() - started) / 1000;
      const report = parseDriverOutput(stdout);
      if (report) resolve({ ...report, wallSeconds });
      else resolve({ tests: {}, seconds: 0, wallSeconds, problem: `exit ${code ?? signal}: ${stderr.slice(-1000)}` });
    });
  });
}

function pad(s: string | number, n: number, right = false): string {
  const t = String(s);
  return right ? t.padStart(n) : t.padEnd(n);
}

/** pass, fail, skip and seconds of one side, in the table's columns. */
function cells(c: Counts | undefined, seconds: number | undefined): string {
  if (!c) return pad('-', 12, true) + ' '.repeat(20);
  return `${pad(c.pass, 12, true)}${pad(c.fail, 6, true)}${pad(c.skip, 6, true)}${pad(seconds === undefined ? '-' : seconds.toFixed(1), 8, true)}`;
}

async function main(opts: Options): Promise<number> {
  const log = (line: string) => process.stderr.write(`test:cpython: ${line}\n`);
  const all = readModules(join(HERE, 'modules.txt'));
  const expected = readExpected(join(HERE, 'expected-failures.yaml'));
  let modules = all;
  if (opts.only) {
    modules = opts.only.split(',').map((m) => m.trim()).filter(Boolean);
    const unknown = modules.filter((m) => !all.includes(m));
    if (unknown.length) throw new SuiteError(`--only: not in cpython-tests/modules.txt: ${unknown.join(', ')}`);
  }
  const cache = cacheRoot();
  const guest = opts.guest
    ? { snapshotWasm: join(opts.guest, 'guest.wasm'), stdlibZip: join(opts.guest, 'python311.zip') }
    : await buildGuest({ log: (l) => log(`guest: ${l}`) });
  const testRoot = await prepareTestTree(cache, log);
  // The code generation users get (runtime/v8-tuning.ts), so that the suite tests it too.
  tuneV8ForGuest();
  const wasm = await WebAssembly.compile(await readFile(guest.snapshotWasm));
  const timeoutMs = opts.timeout * 1000;

  log(`${modules.length} modules, ${opts.jobs} at a time, in the guest${opts.native ? ' and native python3.11' : ''}`);
  const started = Date.now();
  const workers = Array.from(
    { length: Math.min(opts.jobs, modules.length) },
    () =>
      new Worker(fileURLToPath(new URL('./guest-worker.js', import.meta.url)), {
        workerData: { module: wasm, stdlibZip: guest.stdlibZip, testRoot, driver: DRIVER },
      }),
  );
  const guestResults = await pool(modules, opts.jobs, (module, slot) => {
    const worker = workers[slot]!;
    return new Promise<GuestJobResult>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (r: GuestJobResult) => {
        worker.off('error', onError);
        const c = count(r.tests);
        log(`guest ${module}: ${c.pass} passed, ${c.fail} failed, ${c.skip} skipped in ${r.wallSeconds.toFixed(1)} s${r.problem ? ` (${r.problem.split('\n')[0]})` : ''}`);
        resolve(r);
      });
      worker.postMessage({ module, timeoutMs } satisfies GuestJob);
    });
  });
  await Promise.all(workers.map((w) => w.terminate()));
  const guestSeconds = (Date.now() - started) / 1000;

  let nativeResults: GuestJobResult[] | undefined;
  let nativeSeconds = 0;
  if (opts.native) {
    const t0 = Date.now();
    nativeResults = await pool(modules, opts.jobs, (module) => runNative(testRoot, module, timeoutMs));
    nativeSeconds = (Date.now() - t0) / 1000;
  }

  // The table: guest and native side by side.
  const lines: string[] = [];
  const header = `${pad('module', 22)}${pad('guest: pass', 12, true)}${pad('fail', 6, true)}${pad('skip', 6, true)}${pad('s', 8, true)}   ${pad('native: pass', 12, true)}${pad('fail', 6, true)}${pad('skip', 6, true)}${pad('s', 8, true)}`;
  lines.push(header, '-'.repeat(header.length));
  const total = { guest: { pass: 0, fail: 0, skip: 0 }, native: { pass: 0, fail: 0, skip: 0 } };
  const results: Record<string, Outcomes> = {};
  modules.forEach((m, i) => {
    const g = guestResults[i]!;
    const n = nativeResults?.[i];
    results[m] = g.tests;
    // A module that crashed or timed out fails as a whole.
    if (g.problem && Object.keys(g.tests).length === 0) results[m] = { [`test.${m}`]: ['error', g.problem.split('\n')[0]!] };
    const gc = count(results[m]!);
    const nc = n ? count(n.tests) : undefined;
    for (const k of ['pass', 'fail', 'skip'] as const) {
      total.guest[k] += gc[k];
      if (nc) total.native[k] += nc[k];
    }
    lines.push(`${pad(m, 22)}${cells(gc, g.wallSeconds)}   ${cells(nc, n?.wallSeconds)}`);
  });
  lines.push('-'.repeat(header.length));
  lines.push(`${pad('total', 22)}${cells(total.guest, guestSeconds)}   ${opts.native ? cells(total.native, nativeSeconds) : ''}`);
  console.log(lines.join('\n'));

  const verdict = judge(results, expected);
  if (opts.json) {
    const byModule = (rs: GuestJobResult[] | undefined) =>
      rs ? Object.fromEntries(modules.map((m, i) => [m, { ...(rs[i] as ModuleReport), problem: rs[i]!.problem }])) : undefined;
    writeFileSync(opts.json, JSON.stringify({ modules, guest: byModule(guestResults), native: byModule(nativeResults), verdict }, null, 1) + '\n');
  }
  for (const f of verdict.newFailures) console.log(`NEW FAILURE ${f.id}: ${f.status}: ${f.detail}`);
  for (const p of verdict.unexpectedPasses) console.log(`NOW PASSES ${p.id} (listed as ${p.category}): remove it from expected-failures.yaml`);
  for (const s of verdict.notRun) console.log(`NOT RUN ${s.id} (listed as ${s.category})${s.status ? ': skipped' : ': no such test ran'}`);
  const failed = verdict.newFailures.length + verdict.unexpectedPasses.length;
  console.log(
    failed
      ? `test:cpython FAILED: ${verdict.newFailures.length} new failure(s), ${verdict.unexpectedPasses.length} expected failure(s) now passing`
      : `test:cpython ok: ${total.guest.pass} passed, ${total.guest.fail} expected failures, ${total.guest.skip} skipped in ${modules.length} modules`,
  );
  return failed ? 1 : 0;
}

const program = new Command('test:cpython')
  .description("Runs CPython's regression tests for the curated modules in the guest (and natively)")
  .option('--only <modules>', 'comma-separated subset of cpython-tests/modules.txt')
  .option('--jobs <n>', 'modules run at the same time', positiveInt, Math.max(1, Math.min(2, availableParallelism())))
  .option('--no-native', 'skip the native python3.11 comparison')
  .option('--timeout <seconds>', 'per module, on each side', positiveInt, 300)
  .option('--json <file>', 'write every outcome and the verdict as JSON')
  .option('--guest <dir>', "a base guest folder (guest.wasm, python311.zip) instead of this tree's")
  .action(async (opts: Options) => {
    try {
      process.exitCode = await main(opts);
    } catch (err) {
      if (err instanceof SuiteError) {
        console.error(`test:cpython: ${err.message}`);
        process.exitCode = 2;
      } else throw err;
    }
  });

await program.parseAsync(process.argv);
