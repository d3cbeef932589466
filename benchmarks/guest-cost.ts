// What a base guest costs, for comparing two of them (say, before and after a change to
// the standard library): artifact sizes, session start and RSS per idle session, each
// guest measured by this same runtime, rounds alternating between the guests.
//
//   node --expose-gc build/benchmarks/guest-cost.js GUEST_DIR... (default: this tree's guest)
//
// A GUEST_DIR is a base guest folder (…/guest/<key>, with info.json, guest.wasm and
// python311.zip): it is wrapped as a build output without tools for the runtime to load.

import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest } from '../guest/build/index.js';
import { loadGuest } from '../runtime/guest.js';
import { rssPerSession, stats } from './runtime.js';
import { runIfMain } from './script.js';

function asBuildDir(guestDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tic-guest-cost-'));
  const info = JSON.parse(readFileSync(join(guestDir, 'info.json'), 'utf8')) as { python: string; wizer: string; key: string };
  symlinkSync(join(guestDir, 'guest.wasm'), join(dir, 'guest.wasm'));
  symlinkSync(join(guestDir, 'python311.zip'), join(dir, 'stdlib.zip'));
  writeFileSync(join(dir, 'tools.json'), '[]');
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ tooliscode: 'bench', python: info.python, wizer: info.wizer, name: 'cost', module: 'tools', promptStyle: 'compact', snapshot: true, baseGuest: info.key, inputs: [], inputHash: '', tools: [], files: {} }),
  );
  return dir;
}

async function sessionStartMs(dir: string, rounds: number, cell: string): Promise<number[]> {
  const guest = await loadGuest(dir, { warm: 0 });
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 100));
    const t = performance.now();
    const s = await guest.createSession();
    const r = await s.run(cell);
    samples.push(performance.now() - t);
    if (!r.ok) throw new Error(`${dir}: ${cell}: ${r.error?.type}: ${r.error?.message}`);
    await s.close();
  }
  return samples;
}

runIfMain(import.meta.url, async () => {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) dirs.push((await buildGuest()).dir);
  const rounds = 10;
  const rows: string[] = ['| guest | snapshot | stdlib zip | session start, `1` (median, p90) | session start + `import sqlite3, lzma, bz2, zoneinfo` | RSS per idle session (10) |', '|---|---|---|---|---|---|'];
  const builds = dirs.map(asBuildDir);
  const start: number[][] = dirs.map(() => []);
  const startImports: number[][] = dirs.map(() => []);
  const heavy = 'import sqlite3, lzma, bz2, zoneinfo\nzoneinfo.ZoneInfo("Europe/Oslo")';
  // Alternate the guests round by round so that a busy moment does not land on one only.
  for (let r = 0; r < rounds; r++) {
    for (let g = 0; g < dirs.length; g++) {
      start[g]!.push(...(await sessionStartMs(builds[g]!, 1, '1')));
      try {
        startImports[g]!.push(...(await sessionStartMs(builds[g]!, 1, heavy)));
      } catch {
        // a guest without these modules: no figure
      }
    }
  }
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(2)} MB`;
  const ms = (v: number[]) => {
    if (v.length === 0) return 'n/a';
    const s = stats(v);
    return `${s.median.toFixed(0)} ms, ${s.p90.toFixed(0)} ms`;
  };
  dirs.forEach((d, g) => {
    const rss = rssPerSession(builds[g]!, 10);
    rows.push(
      `| ${d.split('/').pop()} | ${mb(statSync(join(d, 'guest.wasm')).size)} | ${mb(statSync(join(d, 'python311.zip')).size)} | ${ms(start[g]!)} | ${ms(startImports[g]!)} | ${rss.perSessionMb.toFixed(1)} MB |`,
    );
  });
  console.log(rows.join('\n'));
});
