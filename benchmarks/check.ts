// What the pre-flight check of cells (guest/python/_tic/check.py) adds to a cell, for
// `npm run bench` (index.ts), or on its own: node build/benchmarks/check.js [DIST_DIR [ROUNDS]].
//
// Two figures: the check itself timed inside the guest (time.perf_counter around
// `check.check(tree, source, globals())` on a typical cell, the AST already parsed as
// run_cell has it), and the same typical cell run whole from the host in two sessions,
// `check: 'block'` and `check: 'off'`, alternating cell by cell.

import { loadGuest } from '../runtime/guest.js';
import { type Stats, benchGuestDir, handlers, stats } from './runtime.js';
import { runIfMain } from './script.js';

/** A typical code-mode cell: calls, an alias, a loop, a comprehension, a helper, try/except, f-strings. */
export const TYPICAL_CELL = `import json
p = tools.ping
results = []
for i in range(3):
    results.append(tools.ping(n=i))
squares = [p(n=i * i) for i in range(2)]
def total(values):
    return sum(v for v in values if isinstance(v, int))
try:
    extra = tools.ping_async(n=7)
except tools.ToolError as e:
    extra = 0
    print(f"failed: {e}")
summary = {"results": results, "squares": squares, "extra": extra, "total": total(results + squares)}
print(json.dumps(summary)[:40])`;

export interface CheckFigures {
  /** ms per check inside the guest. */
  inGuest: Stats;
  /** ms per whole cell from the host, check on (block) and off. */
  cellBlock: Stats;
  cellOff: Stats;
  lines: number;
}

export async function checkCost(dir: string, log: (line: string) => void, rounds = 60): Promise<CheckFigures> {
  log(`pre-flight check: in the guest (500 checks) and whole cells with check block/off (${rounds} rounds)`);
  const guest = await loadGuest(dir, { warm: 0 });
  const on = await guest.createSession({ handlers, check: 'block' });
  const off = await guest.createSession({ handlers, check: 'off' });
  const timing = await on.run(
    [
      'import ast, time',
      'from _tic import check as _c',
      `_src = ${JSON.stringify(TYPICAL_CELL)}`,
      '_tree = compile(_src, "<bench>", "exec", ast.PyCF_ONLY_AST)',
      '_ms = []',
      'for _ in range(500):',
      '    _t = time.perf_counter()',
      '    _p = _c.check(_tree, _src, globals())',
      '    _ms.append((time.perf_counter() - _t) * 1000)',
      'assert _p == [], _p',
      '_ms',
    ].join('\n'),
  );
  if (!timing.ok) throw new Error(`check bench: ${timing.error?.traceback}`);
  const inGuest = stats((JSON.parse(timing.value!.replace(/'/g, '"')) as number[]).slice(50));
  const block: number[] = [];
  const plain: number[] = [];
  for (let r = 0; r < rounds + 5; r++) {
    for (const [s, into] of [[on, block], [off, plain]] as const) {
      const t = performance.now();
      const res = await s.run(TYPICAL_CELL);
      const ms = performance.now() - t;
      if (!res.ok) throw new Error(`check bench: ${res.error?.traceback}`);
      if (r >= 5) into.push(ms);
    }
  }
  await on.close();
  await off.close();
  await guest.close();
  return { inGuest, cellBlock: stats(block), cellOff: stats(plain), lines: TYPICAL_CELL.split('\n').length };
}

const f = (n: number, d = 2) => n.toFixed(d);

export function checkMarkdown(c: CheckFigures): string[] {
  return [
    '## Pre-flight check of cells',
    '',
    `What checking a cell's SDK calls before it runs (\`check: 'block'\`, the default) adds to a typical ${c.lines}-line cell (5 calls, an alias, a loop, a comprehension, a helper, try/except). In the guest: \`check.check()\` on the parsed cell, 450 timed runs. Whole cell: the same cell from the host in a session with \`check: 'block'\` and one with \`check: 'off'\`, alternating.`,
    '',
    '| what | median | p90 | min | max |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| check in the guest | ${f(c.inGuest.median)} ms | ${f(c.inGuest.p90)} ms | ${f(c.inGuest.min)} ms | ${f(c.inGuest.max)} ms |`,
    `| whole cell, check block | ${f(c.cellBlock.median)} ms | ${f(c.cellBlock.p90)} ms | ${f(c.cellBlock.min)} ms | ${f(c.cellBlock.max)} ms |`,
    `| whole cell, check off | ${f(c.cellOff.median)} ms | ${f(c.cellOff.p90)} ms | ${f(c.cellOff.min)} ms | ${f(c.cellOff.max)} ms |`,
    '',
    `Target: <= 5 ms added per cell. Added (median block - median off): ${f(c.cellBlock.median - c.cellOff.median)} ms; the check alone: ${f(c.inGuest.median)} ms p50.`,
  ];
}

async function main(): Promise<void> {
  const dir = process.argv[2] || (await benchGuestDir());
  const rounds = Number(process.argv[3] ?? 60);
  const figures = await checkCost(dir, (l) => process.stderr.write(`bench: ${l}\n`), rounds);
  process.stdout.write(`${checkMarkdown(figures).join('\n')}\n`);
}

runIfMain(import.meta.url, main);
