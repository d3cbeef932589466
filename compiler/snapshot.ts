// Stage 6, snapshot: the base guest re-snapshotted with the SDK imported, so a session
// starts with the tools loaded. Cached by the base guest's key, the snapshotter and the
// SDK's bytes.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type BaseGuest, type LibFiles, type Snapshotter, cacheRoot, defaultSnapshotter, lockCache, snapshotGuest, snapshotterId } from '../guest/build/index.js';
import { pruneAfterBuild, touchCacheEntry } from '../runtime/cache-dir.js';

export async function snapshotWithSdk(options: {
  base: BaseGuest;
  /** SDK files: path under /lib/sdk -> host file. */
  sdkFiles: Map<string, string>;
  sdkHash: string;
  /** More files under /lib while the snapshot is taken (packages, the setup's folder); part of the key. */
  extraLib?: LibFiles;
  cacheDir?: string;
  /** Default: defaultSnapshotter() (the TypeScript writer unless TIC_SNAPSHOTTER=wizer). */
  snapshotter?: Snapshotter;
  log: (line: string) => void;
}): Promise<{ wasm: string; cached: boolean }> {
  const snapshotter = options.snapshotter ?? defaultSnapshotter();
  // The base guest's key covers core.wasm and the stdlib; the snapshotter is named apart
  // because the SDK snapshot is taken from core.wasm whoever took the base's.
  const keyed = createHash('sha256').update(`${options.base.info.key}\0${snapshotterId(snapshotter)}\0${options.sdkHash}`);
  for (const [rel, file] of Object.entries(options.extraLib ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    keyed.update(`\0${rel}\0`).update(createHash('sha256').update(readFileSync(file)).digest('hex'));
  }
  const key = keyed.digest('hex').slice(0, 16);
  const dir = join(options.cacheDir ?? cacheRoot(), 'builds', key);
  const wasm = join(dir, 'guest.wasm');
  if (existsSync(wasm)) {
    touchCacheEntry(dir);
    return { wasm, cached: true };
  }
  const release = await lockCache(join(options.cacheDir ?? cacheRoot(), 'locks'), options.log, `sdk-snapshot-${key}`);
  try {
    if (existsSync(wasm)) return { wasm, cached: true };
    return await snapshotUnlocked(options, key, dir, wasm);
  } finally {
    release();
  }
}

async function snapshotUnlocked(options: Parameters<typeof snapshotWithSdk>[0], key: string, dir: string, wasm: string): Promise<{ wasm: string; cached: boolean }> {
  mkdirSync(join(options.cacheDir ?? cacheRoot(), 'logs'), { recursive: true });
  const logFile = join(options.cacheDir ?? cacheRoot(), 'logs', `build-${key}.log`);
  options.log(`snapshot: pre-initializing the guest with the SDK imported (log: ${logFile})`);
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const lib: Record<string, string> = { 'python311.zip': options.base.stdlibZip };
  for (const [rel, src] of options.sdkFiles) lib[`sdk/${rel}`] = src;
  Object.assign(lib, options.extraLib);
  await snapshotGuest({ coreWasm: options.base.coreWasm, lib, outWasm: join(tmp, 'guest.wasm'), logFile, snapshotter: options.snapshotter ?? defaultSnapshotter() });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  pruneAfterBuild(dir, options.log, options.cacheDir ?? cacheRoot());
  return { wasm, cached: false };
}
