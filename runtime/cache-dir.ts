// Where tooliscode keeps what it derives and can derive again: guest builds, split and
// parkable snapshots, logs. A module of its own so that the runtime finds it without
// loading the guest build pipeline.
//
// Every build of a changed tool list, every serve configuration and every guest version
// adds an entry (15-30 MB, the CPython build tree 170 MB), and nothing is ever needed
// again once its inputs change: left alone, a developer's cache reached 21 GB and filled
// the disk. Entries are marked when used (their folder's mtime) and, after each build,
// the least recently used go until the cache is within its budget.

import { lstatSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** $TIC_CACHE_DIR, else $XDG_CACHE_HOME/tooliscode, else ~/.cache/tooliscode. */
export function cacheRoot(): string {
  if (process.env.TIC_CACHE_DIR) return resolve(process.env.TIC_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tooliscode');
}

/**
 * The folders of the cache whose entries (each a folder) are made again when needed:
 * SDK snapshots of `tic build`, serve builds, conformance builds, split snapshots, base
 * guests and the steps of their build. Not here: locks, logs, sources, the sysroot.
 */
export const CACHE_KINDS = ['builds', 'serve', 'conformance', 'split', 'guest', 'steps'] as const;

/** The budget when TIC_CACHE_MAX_MB is not set. */
export const DEFAULT_CACHE_MAX_MB = 4096;

/**
 * An entry used within this long is never removed: another process may be reading it
 * (a `tic serve` reads its build at start; a test run makes and loads dozens).
 */
export const CACHE_KEEP_MS = 15 * 60_000;

/** TIC_CACHE_MAX_MB in bytes (0: no pruning); an invalid value is an error that names it. */
export function cacheBudgetBytes(): number {
  const raw = process.env.TIC_CACHE_MAX_MB;
  if (raw === undefined || raw === '') return DEFAULT_CACHE_MAX_MB * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new Error(`TIC_CACHE_MAX_MB must be a number of megabytes (0: never prune), got ${JSON.stringify(raw)}`);
  return mb * 2 ** 20;
}

/** Marks a cache entry (a folder under one of CACHE_KINDS) as used now: what pruning goes by. */
export function touchCacheEntry(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    /* gone, or read-only: it is used anyway */
  }
}

/** The entry folder (root/kind/name) that `path` is in, if it is in one. */
function entryOf(path: string, root: string): string | undefined {
  const rel = relative(resolve(root), resolve(path));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  const [kind, name] = rel.split(sep);
  return name && (CACHE_KINDS as readonly string[]).includes(kind!) ? join(resolve(root), kind!, name) : undefined;
}

const held = new Set<string>();

/**
 * Marks the cache entry that `path` is in (if any) as used by this process for as long as
 * it lives (a `.held-PID` file, removed at exit): pruning leaves it, however long ago it
 * was last touched. `loadGuest` holds its folder: a `tic serve` runs for days on one build.
 */
export function holdCacheEntry(path: string, root = cacheRoot()): void {
  const entry = entryOf(path, root);
  if (!entry) return;
  const file = join(entry, `.held-${process.pid}`);
  if (held.has(file)) return;
  try {
    writeFileSync(file, '');
  } catch {
    return; // a read-only cache: nothing prunes it either
  }
  if (held.size === 0) process.once('exit', () => held.forEach((f) => rmSync(f, { force: true })));
  held.add(file);
}

/** A live process holds the entry (its stale `.held-PID` files, of processes gone, are removed). */
function isHeld(entry: string): boolean {
  let names: string[];
  try {
    names = readdirSync(entry);
  } catch {
    return false;
  }
  let live = false;
  for (const n of names) {
    const pid = /^\.held-(\d+)$/.exec(n)?.[1];
    if (pid === undefined) continue;
    try {
      process.kill(Number(pid), 0);
      live = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPERM') live = true; // another user's process
      else rmSync(join(entry, n), { force: true });
    }
  }
  return live;
}

export interface CacheEntry {
  kind: (typeof CACHE_KINDS)[number];
  path: string;
  bytes: number;
  /** Last use (ms since the epoch). */
  usedAt: number;
}

/** Entries of the cache, each with its size on disk; folders being made (`.partial`, `.tmp-*`) are not entries. */
export function cacheEntries(root = cacheRoot()): CacheEntry[] {
  const entries: CacheEntry[] = [];
  for (const kind of CACHE_KINDS) {
    let names: string[];
    try {
      names = readdirSync(join(root, kind));
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.startsWith('.') || name.endsWith('.partial') || name.includes('.tmp')) continue;
      const path = join(root, kind, name);
      try {
        const st = lstatSync(path);
        if (!st.isDirectory()) continue;
        entries.push({ kind, path, bytes: diskBytes(path), usedAt: st.mtimeMs });
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return entries;
}

/** Bytes on disk under `path` (blocks, as du counts them), symlinks not followed. */
function diskBytes(path: string): number {
  let total = 0;
  const stack = [path];
  while (stack.length) {
    const p = stack.pop()!;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    total += st.blocks * 512;
    if (st.isDirectory()) {
      try {
        for (const n of readdirSync(p)) stack.push(join(p, n));
      } catch {
        /* unreadable: counted as its own size */
      }
    }
  }
  return total;
}

export interface PruneResult {
  removed: CacheEntry[];
  /** Bytes of the entries left. */
  keptBytes: number;
  budgetBytes: number;
}

/**
 * Removes the least recently used entries until the cache is within `maxBytes`; entries
 * used within `keepMs`, those in `keep` and those a live process holds stay, whatever the size.
 */
export function pruneCache(options: { root?: string; maxBytes?: number; keepMs?: number; keep?: string[]; now?: number } = {}): PruneResult {
  const root = options.root ?? cacheRoot();
  const budgetBytes = options.maxBytes ?? cacheBudgetBytes();
  const entries = cacheEntries(root);
  let keptBytes = entries.reduce((n, e) => n + e.bytes, 0);
  const removed: CacheEntry[] = [];
  if (budgetBytes === 0 && options.maxBytes === undefined) return { removed, keptBytes, budgetBytes };
  const now = options.now ?? Date.now();
  const keep = new Set((options.keep ?? []).map((p) => resolve(p)));
  const keepMs = options.keepMs ?? CACHE_KEEP_MS;
  for (const e of entries.sort((a, b) => a.usedAt - b.usedAt)) {
    if (keptBytes <= budgetBytes) break;
    // keepMs 0 keeps nothing: a file time has sub-millisecond digits that Date.now() drops,
    // so an entry touched a moment ago can read as used in the future (a flaky test found it).
    if ((keepMs > 0 && now - e.usedAt < keepMs) || keep.has(resolve(e.path)) || isHeld(e.path)) continue;
    try {
      rmSync(e.path, { recursive: true, force: true });
    } catch {
      continue;
    }
    keptBytes -= e.bytes;
    removed.push(e);
  }
  return { removed, keptBytes, budgetBytes };
}

/**
 * After a build: prunes the cache to its budget, keeping `made`, and says what went in one
 * line (nothing when nothing did). Never fails the build: a cache it cannot prune is left.
 */
export function pruneAfterBuild(made: string, log: (line: string) => void, root = cacheRoot()): void {
  try {
    if (cacheBudgetBytes() === 0) return;
    const r = pruneCache({ root, keep: [made] });
    if (r.removed.length) {
      const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
      log(`cache: removed ${r.removed.length} entries unused the longest (${mb(r.removed.reduce((n, e) => n + e.bytes, 0))}); ${mb(r.keptBytes)} kept of a ${mb(r.budgetBytes)} budget (TIC_CACHE_MAX_MB)`);
    }
  } catch (err) {
    log(`cache: not pruned: ${(err as Error).message}`);
  }
}
