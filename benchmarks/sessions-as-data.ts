// Sessions as data, measured: checkpoint size and time of a typical data session, restore
// to the result of its next cell from a warm worker, and the RSS of hibernated sessions.
// node --expose-gc build/benchmarks/sessions-as-data.js [HIBERNATED_COUNT]

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { codeMode } from '../adapters/code-mode.js';
import { loadGuest } from '../runtime/guest.js';
import { loadMonty, montyDumpLoad } from './monty.js';
import { type Stats, benchGuestDir, stats } from './runtime.js';
import { runIfMain } from './script.js';

/** The session of the target: json, re, datetime and sqlite3 imported, a 10,000-row list of dicts. */
export const DATA_SESSION = `import json, re, datetime, sqlite3
rows = [{"id": i, "name": f"row{i}", "tags": ["a", "b"]} for i in range(10_000)]
len(rows)`;

/**
 * The same session for Monty, as far as it goes: it has json, re and datetime but no
 * sqlite3, so that import is left out of its session.
 */
export const MONTY_DATA_SESSION = `import json, re, datetime
rows = [{"id": i, "name": f"row{i}", "tags": ["a", "b"]} for i in range(10_000)]
len(rows)`;

export interface SessionsAsData {
  checkpointBytes: number;
  checkpointMs: Stats;
  restoreToResultMs: Stats;
  hibernated: { sessions: number; rssMb: number; perSessionKb: number };
  /** Monty's dump()/load() of the same session (without sqlite3), or why it is missing. */
  monty: { bytes: number; dumpMs: Stats; loadToResultMs: Stats } | { missing: string };
}

export async function sessionsAsData(dir: string, rounds = 7, hibernatedCount = 200): Promise<SessionsAsData> {
  const guest = await loadGuest(dir, { warm: 1 });
  const s = await guest.createSession();
  await s.run(DATA_SESSION);
  await s.checkpoint(); // the snapshot's memory image, computed once per process
  const checkpointMs: number[] = [];
  const restoreMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    await s.run(`rows[0]["n"] = ${i}`);
    let t = performance.now();
    const b = await s.checkpoint();
    checkpointMs.push(performance.now() - t);
    bytes = b.length;
    await guest.ready(); // a warm worker, as a server keeps
    t = performance.now();
    const r = await guest.restore(b);
    await r.run('rows[0]["n"]');
    restoreMs.push(performance.now() - t);
    await r.close();
  }
  await s.close();
  await guest.close();

  const { monty: m, missing } = await loadMonty();
  let monty: SessionsAsData['monty'];
  try {
    monty = m ? montyDumpLoad(m, MONTY_DATA_SESSION, (i) => `rows[0]["n"] = ${i}`, 'rows[0]["n"]', rounds) : { missing: missing! };
  } catch (err) {
    monty = { missing: (err as Error).message };
  }

  const hibernated = hibernatedRss(dir, hibernatedCount);
  return {
    checkpointBytes: bytes,
    checkpointMs: stats(checkpointMs),
    restoreToResultMs: stats(restoreMs),
    hibernated,
    monty,
  };
}

const f = (n: number) => n.toFixed(1);

export function sessionsAsDataMarkdown(r: SessionsAsData): string[] {
  const m = 'missing' in r.monty ? undefined : r.monty;
  const montyCell = (v: string) => (m ? v : '-');
  return [
    '## Sessions as data',
    '',
    "A session that imported json, re, datetime and sqlite3 and holds a 10,000-row list of dicts; one cell changes it between checkpoints. Restore: `guest.restore(bytes)` on a warm worker, to the result of its next cell. Monty beside it: a `MontyRepl` that ran the same cell without sqlite3 (Monty has none), `dump()` after each change and `MontyRepl.load(bytes)` to the result of the next cell. Hibernated: conversations of `codeMode({ store })` that ran one cell and released their worker; RSS growth of the process over all of them.",
    '',
    '| what | tooliscode median | p90 | Monty median | p90 | target |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    `| checkpoint size | ${f(r.checkpointBytes / 2 ** 20)} MB | | ${montyCell(`${f(m?.bytes! / 2 ** 20)} MB`)} | | <= 2 MB |`,
    `| checkpoint (Monty: dump) | ${f(r.checkpointMs.median)} ms | ${f(r.checkpointMs.p90)} ms | ${montyCell(`${f(m?.dumpMs.median!)} ms`)} | ${montyCell(`${f(m?.dumpMs.p90!)} ms`)} | <= 20 ms |`,
    `| restore to the next cell's result (Monty: load + feed) | ${f(r.restoreToResultMs.median)} ms | ${f(r.restoreToResultMs.p90)} ms | ${montyCell(`${f(m?.loadToResultMs.median!)} ms`)} | ${montyCell(`${f(m?.loadToResultMs.p90!)} ms`)} | <= 15 ms |`,
    `| ${r.hibernated.sessions} hibernated sessions | ${f(r.hibernated.rssMb)} MB RSS (${r.hibernated.perSessionKb} KB each) | | | | <= 0.15 MB each |`,
    ...(m ? [] : ['', `Monty: ${(r.monty as { missing: string }).missing}`]),
  ];
}

/**
 * RSS growth over `count` hibernated conversations, in a process of its own: measured in
 * the benchmark's process, the baseline held what earlier steps had let go but not yet
 * given back (workers ending, memories their threads had not collected), and the growth
 * came out negative (-22 MB for 1,000).
 */
function hibernatedRss(dir: string, count: number): SessionsAsData['hibernated'] {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--hibernated-child', dir, String(count)], { encoding: 'utf8' });
  return JSON.parse(out) as SessionsAsData['hibernated'];
}

async function hibernatedChild(dir: string, count: number): Promise<void> {
  // Each conversation runs a cell, is checkpointed into a folder store and releases its worker.
  const cm = await codeMode({ dir, store: mkdtempSync(join(tmpdir(), 'tic-hibernated-')), hibernateAfterMs: 50, warm: 1 });
  const gc = (globalThis as { gc?: () => void }).gc;
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  // One conversation first, so that what the process pays once (the compiled module, a worker) is not counted.
  await cm.conversation({ id: 'first' }).run('x = 1');
  await new Promise((r) => setTimeout(r, 500));
  await settle();
  const before = process.memoryUsage().rss;
  for (let i = 0; i < count; i++) await cm.conversation({ id: `c${i}` }).run('x = [i * i for i in range(1000)]');
  // Every conversation hibernated (its timer fired), and the garbage of their cells collected.
  await new Promise((r) => setTimeout(r, 1000));
  await settle();
  const rss = (process.memoryUsage().rss - before) / 2 ** 20;
  process.stdout.write(JSON.stringify({ sessions: count, rssMb: Math.round(rss * 10) / 10, perSessionKb: Math.round((rss * 1024) / count) }));
  await cm.close();
}

runIfMain(import.meta.url, async () => {
  if (process.argv[2] === '--hibernated-child') {
    await hibernatedChild(process.argv[3]!, Number(process.argv[4]));
    process.exit(0);
  }
  const r = await sessionsAsData(await benchGuestDir(), 7, Number(process.argv[2] ?? 200));
  console.log(JSON.stringify(r, null, 2));
});
