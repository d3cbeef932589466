// The five CPU-bound workloads of issue #21, the same code in every interpreter: tooliscode,
// Pyodide, Monty and native python3.11. Each is timed inside Python (time.perf_counter)
// where the interpreter has a clock; Monty has no `time` module, so its run is timed by the
// host around `run()` (parsing a few lines is included, a fraction of a millisecond).

import { execFileSync } from 'node:child_process';
import type { Session } from '../runtime/session.js';
import { type MontyModule, montyRun } from './monty.js';
import { pyodideRun } from './peers.js';
import { type Stats, stats } from './runtime.js';

export const WORKLOADS: Record<string, string> = {
  'sum of 3M terms': 'total = sum(i * i for i in range(3_000_000))',
  'fib(24)': 'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nfib(24)',
  'sort 200k ints': 'xs = [(i * 7919) % 200_003 for i in range(200_000)]\nxs.sort()',
  'json of 50k dicts': 'import json\ntext = json.dumps([{"id": i, "name": "n" + str(i), "v": i * 0.5} for i in range(50_000)])\nback = json.loads(text)',
  'regex over 1 MB': 'import re\ntext = ("abc123 def456 ghi " * 60_000)[:1_000_000]\nhits = len(re.findall(r"[a-z]+[0-9]+", text))',
};

/** `code` wrapped to set `result` to its milliseconds. */
const timed = (code: string) => `import time as _t\n_t0 = _t.perf_counter()\n${code}\nresult = (_t.perf_counter() - _t0) * 1000`;

export type Interpreter = (code: string) => Promise<number | undefined>;

export function ticInterpreter(s: Session): Interpreter {
  return async (code) => {
    const r = await s.run(`${timed(code)}\nresult`);
    if (!r.ok) throw new Error(r.error!.traceback);
    return Number(r.value);
  };
}

export const pyodideInterpreter: Interpreter = async (code) => Number(await pyodideRun(timed(code)));

export const nativeInterpreter =
  (python = '/usr/bin/python3.11'): Interpreter =>
  async (code) =>
    Number(execFileSync(python, ['-c', `${timed(code)}\nprint(result)`], { encoding: 'utf8' }));

/** Monty, or undefined for a workload it cannot run (its error is kept in `errors`). */
export function montyInterpreter(m: MontyModule, errors: Record<string, string>): Interpreter {
  return async (code) => {
    const t = performance.now();
    try {
      montyRun(m, code);
    } catch (err) {
      errors[code] = (err as Error).message.split('\n')[0]!;
      return undefined;
    }
    return performance.now() - t;
  };
}

export interface WorkloadResult {
  /** Per workload, per interpreter. */
  ms: Record<string, Record<string, Stats | undefined>>;
  /** Geometric mean over the five of each interpreter's median / native's median (undefined if one is missing). */
  geomean: Record<string, number | undefined>;
  notes: string[];
}

/** Runs each workload `rounds` times per interpreter, interpreters alternating within a round. */
export async function workloads(interpreters: Record<string, Interpreter>, reference: string, rounds = 3, montyErrors: Record<string, string> = {}): Promise<WorkloadResult> {
  const ms: WorkloadResult['ms'] = {};
  for (const [name, code] of Object.entries(WORKLOADS)) {
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(interpreters).map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const [peer, run] of Object.entries(interpreters)) {
        (globalThis as { gc?: () => void }).gc?.();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const v = await run(code);
        if (v !== undefined && Number.isFinite(v)) samples[peer]!.push(v);
      }
    }
    ms[name] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.length ? stats(v) : undefined]));
  }
  const geomean: WorkloadResult['geomean'] = {};
  for (const peer of Object.keys(interpreters)) {
    const ratios = Object.values(ms).map((row) => (row[peer] && row[reference] ? row[peer]!.median / row[reference]!.median : undefined));
    geomean[peer] = ratios.every((x) => x !== undefined) ? Math.exp(ratios.reduce((a, x) => a + Math.log(x!), 0) / ratios.length) : undefined;
  }
  const notes = Object.entries(montyErrors).map(([code, err]) => `Monty cannot run \`${Object.entries(WORKLOADS).find(([, c]) => c === code)?.[0]}\`: ${err}`);
  return { ms, geomean, notes };
}

export function workloadsMarkdown(r: WorkloadResult, reference: string): string[] {
  const peers = Object.keys(r.geomean);
  const cell = (s: Stats | undefined, ref: Stats | undefined) => (s ? `${s.median.toFixed(0)} ms${ref ? ` (${(s.median / ref.median).toFixed(2)}x)` : ''}` : 'n/a');
  return [
    `| workload | ${peers.join(' | ')} |`,
    `| --- |${peers.map(() => ' ---: |').join('')}`,
    ...Object.entries(r.ms).map(([name, row]) => `| ${name} | ${peers.map((p) => cell(row[p], row[reference])).join(' | ')} |`),
    `| geometric mean vs ${reference} | ${peers.map((p) => (r.geomean[p] !== undefined ? `${r.geomean[p]!.toFixed(2)}x` : 'n/a')).join(' | ')} |`,
    ...(r.notes.length ? ['', ...r.notes.map((n) => `${n}.`)] : []),
  ];
}
