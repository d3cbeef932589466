// What a preloaded package costs (`tic build --package ... --preload ...`), for
// `npm run bench` (index.ts): the same tools built three ways (no packages; Debian's
// python3-dateutil + python3-six + python3-tabulate bundled; the same preloaded), then
// the snapshot's size, a session's start, the first cell that imports the packages, and
// the RSS of idle sessions, side by side.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../compiler/build.js';
import { loadGuest } from '../runtime/guest.js';
import { debianDistPackages, debianPackagesUnavailable } from './debian-packages.js';
import { type Stats, rssPerSession, stats } from './runtime.js';
import { runIfMain } from './script.js';

const IMPORT_CELL = 'from dateutil import parser, tz\nfrom tabulate import tabulate\nparser.parse("2024-01-31T10:00:00+02:00").year';
const PRELOAD = ['dateutil.parser', 'dateutil.tz', 'tabulate'];

export interface PackageCost {
  variant: string;
  snapshotBytes: number;
  archiveBytes: number;
  sessionStart: Stats;
  firstImport: Stats;
  idleRssMb: number;
}

export async function packageCost(toolsFile: string, workDir: string, log: (line: string) => void): Promise<{ rows: PackageCost[]; markdown: string[] }> {
  const unavailable = debianPackagesUnavailable();
  if (unavailable) return { rows: [], markdown: ['## 7. What a preloaded package costs', '', `Not measured: ${unavailable}.`] };
  const packages = ['python3-dateutil', 'python3-six', 'python3-tabulate'].map(debianDistPackages);
  const variants: [string, { packages?: string[]; preload?: string[] }][] = [
    ['no packages', {}],
    ['bundled, imported in the session', { packages }],
    [`bundled and preloaded (${PRELOAD.join(', ')})`, { packages, preload: PRELOAD }],
  ];
  const rows: PackageCost[] = [];
  for (const [i, [variant, extra]] of variants.entries()) {
    log(`   building: ${variant}`);
    const out = join(workDir, `packages-${i}`);
    await build({ inputs: [toolsFile], outDir: out, log: () => {}, ...extra });
    // Warm worker: createSession + cell `1`; then the first cell that imports the packages.
    const guest = await loadGuest(out, { warm: 1 });
    const start: number[] = [];
    const firstImport: number[] = [];
    for (let r = 0; r < 12; r++) {
      await guest.ready();
      await new Promise((resolve) => setTimeout(resolve, 100));
      let t = performance.now();
      const s = await guest.createSession();
      await s.run('1');
      start.push(performance.now() - t);
      if (extra.packages) {
        t = performance.now();
        const r2 = await s.run(IMPORT_CELL);
        firstImport.push(performance.now() - t);
        if (!r2.ok) throw new Error(r2.error!.traceback);
      }
      await s.close();
    }
    await guest.close();
    rows.push({
      variant,
      snapshotBytes: statSync(join(out, 'guest.wasm')).size,
      archiveBytes: extra.packages ? statSync(join(out, 'packages.zip')).size : 0,
      sessionStart: stats(start),
      firstImport: stats(firstImport.length ? firstImport : [Number.NaN]),
      idleRssMb: rssPerSession(out, 10).perSessionMb,
    });
  }
  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  const markdown = [
    '## 7. What a preloaded package costs',
    '',
    "The bench tools built three ways with Debian's `python3-dateutil`, `python3-six` and `python3-tabulate` (`tic build --package ... [--preload ...]`). Session start: warm worker, `createSession` + cell `1`, median of 12. First import: the session's next cell, `from dateutil import parser, tz; from tabulate import tabulate; parser.parse(...)`. Idle RSS: per session, 10 idle sessions in a fresh process.",
    '',
    '| guest | guest.wasm | packages.zip | session start | first import cell | idle RSS per session |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.variant} | ${mb(r.snapshotBytes)} | ${r.archiveBytes ? mb(r.archiveBytes) : '-'} | ${f(r.sessionStart.median, 2)} ms | ${r.firstImport.samples && Number.isFinite(r.firstImport.median) ? `${f(r.firstImport.median, 2)} ms` : '-'} | ${f(r.idleRssMb)} MB |`),
  ];
  return { rows, markdown };
}

// `node build/benchmarks/packages.js`: this measurement alone, printed as markdown.
runIfMain(import.meta.url, async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tic-bench-packages-'));
  writeFileSync(join(dir, 'tools.json'), JSON.stringify({ tools: [{ name: 'ping', description: 'Answers at once.', inputSchema: { type: 'object', properties: {} } }] }));
  const { markdown } = await packageCost(join(dir, 'tools.json'), dir, (l) => process.stderr.write(`bench: ${l}\n`));
  process.stdout.write(`${markdown.join('\n')}\n`);
});
