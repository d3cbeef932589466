// Where tooliscode keeps what it derives and can derive again: guest builds, split and
// parkable snapshots, logs. A module of its own so that the runtime finds it without
// loading the guest build pipeline.

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** $TIC_CACHE_DIR, else $XDG_CACHE_HOME/tooliscode, else ~/.cache/tooliscode. */
export function cacheRoot(): string {
  if (process.env.TIC_CACHE_DIR) return resolve(process.env.TIC_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'tooliscode');
}
