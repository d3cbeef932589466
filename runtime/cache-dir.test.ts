// The cache keeps to its budget: the entries unused the longest go first, those in use stay,
// and nothing outside the entry folders is touched.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from './package-root.js';
import { cacheBudgetBytes, cacheEntries, holdCacheEntry, pruneAfterBuild, pruneCache, touchCacheEntry } from './cache-dir.js';

const MB = 2 ** 20;
const HOUR = 3_600_000;

/** A cache with an entry of `mb` MB per [kind, name, hours since last use]. */
function fakeCache(entries: [string, string, number, number][]): string {
  const root = mkdtempSync(join(tmpdir(), 'tic-cache-'));
  const now = Date.now();
  for (const [kind, name, mb, hoursAgo] of entries) {
    const dir = join(root, kind, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'data'), Buffer.alloc(mb * MB, 1));
    const t = new Date(now - hoursAgo * HOUR);
    utimesSync(dir, t, t);
  }
  return root;
}

const names = (root: string) => cacheEntries(root).map((e) => `${e.kind}/${e.path.split('/').pop()}`).sort();

describe('the cache', () => {
  const saved = process.env.TIC_CACHE_MAX_MB;
  afterEach(() => {
    if (saved === undefined) delete process.env.TIC_CACHE_MAX_MB;
    else process.env.TIC_CACHE_MAX_MB = saved;
  });

  it('counts each entry of each kind with its size on disk, and not what is being made or is not an entry', () => {
    const root = fakeCache([
      ['builds', 'a', 2, 5],
      ['split', 'b', 1, 5],
    ]);
    mkdirSync(join(root, 'builds', 'c.partial'), { recursive: true });
    mkdirSync(join(root, 'serve', 'd.tmp-123'), { recursive: true });
    mkdirSync(join(root, 'logs'), { recursive: true });
    writeFileSync(join(root, 'logs', 'x.log'), Buffer.alloc(3 * MB));
    const entries = cacheEntries(root);
    expect(names(root)).toEqual(['builds/a', 'split/b']);
    expect(entries.find((e) => e.kind === 'builds')!.bytes).toBeGreaterThanOrEqual(2 * MB);
  });

  it('prunes the least recently used first, down to the budget, and keeps what was used lately or is named', () => {
    const root = fakeCache([
      ['builds', 'oldest', 3, 50],
      ['conformance', 'old', 3, 40],
      ['guest', 'current', 3, 30],
      ['serve', 'running', 3, 0.1], // used 6 minutes ago: kept, whatever the budget
      ['split', 'mid', 3, 20],
    ]);
    touchCacheEntry(join(root, 'guest', 'current')); // used just now
    const r = pruneCache({ root, maxBytes: 7 * MB, keep: [join(root, 'split', 'mid')] });
    expect(r.removed.map((e) => e.path.split('/').pop())).toEqual(['oldest', 'old']);
    expect(names(root)).toEqual(['guest/current', 'serve/running', 'split/mid']);
    expect(r.keptBytes).toBeGreaterThan(7 * MB); // over the budget: the rest is in use
    // Everything may go only with no window and no budget.
    expect(pruneCache({ root, maxBytes: 0, keepMs: 0 }).removed).toHaveLength(3);
    expect(names(root)).toEqual([]);
  });

  it('within the budget nothing goes', () => {
    const root = fakeCache([
      ['builds', 'a', 1, 500],
      ['steps', 'b', 1, 500],
    ]);
    expect(pruneCache({ root, maxBytes: 10 * MB }).removed).toEqual([]);
    expect(names(root)).toEqual(['builds/a', 'steps/b']);
  });

  it('TIC_CACHE_MAX_MB sets the budget after builds; 0 turns pruning off; a bad value is named', () => {
    const root = fakeCache([
      ['builds', 'a', 2, 5],
      ['builds', 'b', 2, 4],
      ['builds', 'made', 2, 3],
    ]);
    const lines: string[] = [];
    process.env.TIC_CACHE_MAX_MB = '0';
    pruneAfterBuild(join(root, 'builds', 'made'), (l) => lines.push(l), root);
    expect(names(root)).toHaveLength(3);
    process.env.TIC_CACHE_MAX_MB = '3';
    pruneAfterBuild(join(root, 'builds', 'made'), (l) => lines.push(l), root);
    expect(names(root)).toEqual(['builds/made']);
    expect(lines.join('\n')).toMatch(/removed 2 entries unused the longest .*budget \(TIC_CACHE_MAX_MB\)/);
    process.env.TIC_CACHE_MAX_MB = 'lots';
    expect(() => cacheBudgetBytes()).toThrow(/TIC_CACHE_MAX_MB must be a number of megabytes.*"lots"/);
    pruneAfterBuild(join(root, 'builds', 'made'), (l) => lines.push(l), root); // a build never fails for it
    expect(lines.at(-1)).toMatch(/cache: not pruned: TIC_CACHE_MAX_MB/);
  });

  it('`tic cache` shows it and `tic cache prune --max-mb N` prunes it', () => {
    const root = fakeCache([
      ['builds', 'a', 2, 5],
      ['split', 'b', 2, 6],
    ]);
    const tic = (...args: string[]) => execFileSync(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), 'cache', ...args], { encoding: 'utf8', env: { ...process.env, TIC_CACHE_DIR: root } });
    expect(tic()).toMatch(/2 entries[\s\S]*builds +1 entries[\s\S]*split +1 entries/);
    expect(tic('prune', '--max-mb', '3')).toMatch(/^removed 1 entries/);
    expect(existsSync(join(root, 'split', 'b'))).toBe(false);
    expect(existsSync(join(root, 'builds', 'a'))).toBe(true);
    expect(() => execFileSync(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), 'cache', 'wipe'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/unknown action "wipe"/);
  });
});

describe('pruning with no keep window (keepMs 0)', () => {
  it('removes an entry used a moment ago, even one whose file time reads a fraction of a millisecond after now', () => {
    const root = fakeCache([['builds', 'fresh', 1, 0]]);
    const dir = join(root, 'builds', 'fresh');
    utimesSync(dir, 1_000_000.0007, 1_000_000.0007); // 0.7 ms past the second, as a file time can be
    const usedAt = cacheEntries(root)[0]!.usedAt;
    expect(usedAt % 1).toBeGreaterThan(0); // the file system keeps the fraction
    // Date.now() has no fraction: the same moment, floored.
    const r = pruneCache({ root, maxBytes: 0, keepMs: 0, now: Math.floor(usedAt) });
    expect(r.removed.map((e) => e.path.split('/').pop())).toEqual(['fresh']);
    rmSync(root, { recursive: true, force: true });
  });
});

describe('an entry a live process holds', () => {
  it('stays however old, until its process is gone; `.held-PID` files of dead processes are cleared', async () => {
    const root = fakeCache([
      ['serve', 'running', 2, 500],
      ['serve', 'abandoned', 2, 400],
      ['builds', 'other', 2, 300],
    ]);
    holdCacheEntry(join(root, 'serve', 'running', 'sdk', 'tools.py'), root); // any path inside the entry
    holdCacheEntry(join(root, 'elsewhere', 'x'), root); // not an entry: nothing
    // A process that held `abandoned` and is gone (a pid far above pid_max).
    writeFileSync(join(root, 'serve', 'abandoned', '.held-4194999'), '');
    // Another live process (this test's parent, say) holds `other`.
    writeFileSync(join(root, 'builds', 'other', `.held-${process.ppid}`), '');
    const r = pruneCache({ root, maxBytes: 0, keepMs: 0 });
    expect(r.removed.map((e) => e.path.split('/').pop())).toEqual(['abandoned']);
    expect(existsSync(join(root, 'serve', 'running', `.held-${process.pid}`))).toBe(true);
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
    // When the holder exits, its file goes with it, and the entry can be pruned.
    const other = join(root, 'builds', 'other');
    const child = `import('${join(packageRoot(), 'build', 'runtime', 'cache-dir.js')}').then((m) => { m.holdCacheEntry(${JSON.stringify(other)}, ${JSON.stringify(root)}); console.log(process.pid, require('node:fs').readdirSync(${JSON.stringify(other)}).join(' ')); })`;
    const [pid, ...whileHeld] = execFileSync(process.execPath, ['-e', child], { encoding: 'utf8' }).trim().split(' ');
    expect(whileHeld).toContain(`.held-${pid}`);
    expect(readdirSync(other).filter((n) => n.startsWith('.held-'))).toEqual([`.held-${process.ppid}`]);
    rmSync(join(root, 'builds', 'other', `.held-${process.ppid}`));
    expect(pruneCache({ root, maxBytes: 0, keepMs: 0 }).removed.map((e) => e.path.split('/').pop())).toEqual(['other']);
  });
});
