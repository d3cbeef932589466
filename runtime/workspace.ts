// A session's workspace folder on the host, mounted at /workspace.
//
// The guest's file calls reach the folder directly, on the session's worker thread
// (wasi/hostfs.ts: every path opened one component at a time from the folder's root,
// links never followed). What is written is on the host when the call returns, whatever
// ends the session afterwards. Node closes the descriptors a worker opened when the
// worker ends, however it ends.

import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { HostMount } from './wasi/hostfs.js';
import type { Quota } from './wasi/memfs.js';

export class WorkspaceError extends Error {}

/** Opens (creating it if missing) the host folder `dir` as a mount for one session. */
export function openWorkspace(dir: string, quota: Quota): HostMount {
  if (process.platform !== 'linux') throw new WorkspaceError(`a workspace folder needs Linux (its containment relies on /proc/self/fd); run without one to keep the workspace in memory`);
  try {
    mkdirSync(dir, { recursive: true });
    const real = realpathSync(dir);
    if (!lstatSync(real).isDirectory()) throw new WorkspaceError(`workspace ${dir} is not a folder`);
    return new HostMount(real, quota);
  } catch (err) {
    if (err instanceof WorkspaceError) throw err;
    throw new WorkspaceError(`cannot open the workspace folder ${dir}: ${(err as Error).message}`);
  }
}
