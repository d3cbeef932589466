// The workspace at the size of a real project: session start, an empty cell and reading
// one small file deep in the tree, on a folder of one file against a folder of 5,000
// small files plus one 100 MB file (sparse, so making it costs nothing), and on the
// in-memory workspace. Run by `npm run bench` (index.ts), or on its own:
// node build/benchmarks/workspace.js [DIST_DIR [ROUNDS [CELLS]]].

import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGuest } from '../runtime/guest.js';
import { type Stats, benchGuestDir, stats } from './runtime.js';
import { runIfMain } from './script.js';

const DEEP = ['deep', 'a', 'b', 'c'];
const READ_CELL = `open(${JSON.stringify(`${DEEP.join('/')}/file.txt`)}).read()`;
/** 100 new files of 1 KB, each written and closed: what write-through costs per file. */
const WRITE_CELL = 'import os\nos.makedirs("out", exist_ok=True)\nn = globals().get("n", 0) + 1\nfor i in range(100):\n    with open(f"out/{n}-{i}.txt", "w") as f:\n        f.write("x" * 1024)';

type Where = 'memory' | 'small' | 'large';

/** A folder with only the deep file; and the same plus 5,000 small files and a 100 MB one. */
function makeFolders(root: string): { small: string; large: string } {
  const small = join(root, 'small');
  const large = join(root, 'large');
  for (const dir of [small, large]) {
    mkdirSync(join(dir, ...DEEP), { recursive: true });
    writeFileSync(join(dir, ...DEEP, 'file.txt'), 'deep file\n');
  }
  for (let d = 0; d < 50; d++) {
    const sub = join(large, 'src', `pkg${d}`);
    mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(sub, `mod${f}.py`), `# module ${d}.${f}\nVALUE = ${d * 100 + f}\n`);
  }
  writeFileSync(join(large, 'big.bin'), '');
  truncateSync(join(large, 'big.bin'), 100 * 1024 * 1024);
  return { small, large };
}

export interface WorkspaceFigures {
  /** createSession({ workspace }) + the first cell, warm worker, ms. */
  start: Record<Where, Stats>;
  /** `x = 1`, ms per cell. */
  emptyCell: Record<Where, Stats>;
  /** A cell reading deep/a/b/c/file.txt, ms per cell. */
  read: Record<Where, Stats>;
  /** A cell writing 100 files of 1 KB, ms per cell. */
  write: Record<Where, Stats>;
}

export async function workspaceBench(dir: string, log: (line: string) => void = () => {}, rounds = 7, cells = 15): Promise<WorkspaceFigures> {
  const root = mkdtempSync(join(tmpdir(), 'tic-bench-ws-'));
  try {
    const folders = makeFolders(root);
    const guest = await loadGuest(dir, { warm: 1 });
    const series = (): Record<Where, number[]> => ({ memory: [], small: [], large: [] });
    const start = series();
    const emptyCell = series();
    const read = series();
    const write = series();
    const timed = async (fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    for (let r = 0; r < rounds; r++) {
      log(`   workspace round ${r + 1}/${rounds}`);
      for (const where of ['memory', 'small', 'large'] as const) {
        await guest.ready();
        let s: Awaited<ReturnType<typeof guest.createSession>> | undefined;
        start[where].push(
          await timed(async () => {
            s = await guest.createSession(where === 'memory' ? {} : { workspace: folders[where] });
            const first = await s.run('1');
            if (!first.ok) throw new Error(first.error?.traceback);
          }),
        );
        if (where === 'memory') await s!.run(`import os\nos.makedirs(${JSON.stringify(DEEP.join('/'))})\nopen(${JSON.stringify(`${DEEP.join('/')}/file.txt`)}, "w").write("deep file\\n")`);
        // The cells of one session per round: the first of each kind warms its path.
        for (const [cell, into] of [['x = 1', emptyCell], [READ_CELL, read], [WRITE_CELL, write]] as const) {
          const warm = await s!.run(cell);
          if (!warm.ok) throw new Error(`the cell ${cell} failed: ${warm.error?.traceback}`);
          for (let i = 0; i < cells; i++) into[where].push(await timed(() => s!.run(cell)));
        }
        await s!.close();
        if (where !== 'memory') rmSync(join(folders[where], 'out'), { recursive: true, force: true }); // the folder stays its size
      }
    }
    await guest.close();
    const all = (m: Record<Where, number[]>) => ({ memory: stats(m.memory), small: stats(m.small), large: stats(m.large) });
    return { start: all(start), emptyCell: all(emptyCell), read: all(read), write: all(write) };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const f = (n: number) => n.toFixed(2);

export function workspaceMarkdown(w: WorkspaceFigures): string[] {
  const row = (name: string, s: Record<Where, Stats>) =>
    `| ${name} | ${f(s.memory.median)} ms | ${f(s.small.median)} ms | ${f(s.large.median)} ms | ${f(s.large.p90)} ms | ${f(s.large.median / s.small.median)}x |`;
  return [
    '## 6. Workspace size',
    '',
    'A session on a host folder of one small file against one of 5,000 small files plus a 100 MB file, and on no folder (the workspace in memory), medians. Start is `createSession` plus the first cell, from a warm worker; the read cell opens `deep/a/b/c/file.txt`; the write cell creates, writes and closes 100 new files of 1 KB. The ratio is large folder over one-file folder.',
    '',
    '| measure | in memory | one-file folder | large folder | large p90 | ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    row('session start', w.start),
    row('empty cell `x = 1`', w.emptyCell),
    row('cell reading one deep file', w.read),
    row('cell writing 100 files', w.write),
    '',
    'Targets: empty cell <= 2x, session start <= 3x, a deep read about the same.',
  ];
}

runIfMain(import.meta.url, async () => {
  // node build/benchmarks/workspace.js [DIST_DIR [ROUNDS [CELLS]]]
  const [dist, rounds, cells] = process.argv.slice(2);
  const log = (l: string) => process.stderr.write(`bench: ${l}\n`);
  const dir = dist || (await benchGuestDir());
  log(`guest: ${dir}`);
  const figures = await workspaceBench(dir, log, Number(rounds || 7), Number(cells || 15));
  process.stdout.write(`${workspaceMarkdown(figures).join('\n')}\n`);
});
