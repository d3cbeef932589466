// A session's workspace folder on the host, mounted at /workspace.
//
// The guest's file calls reach the folder directly, on the session's worker thread
// (wasi/hostfs.ts: every path opened one component at a time from the folder's root,
// links never followed). What is written is on the host when the call returns, whatever
// ends the session afterwards. Node closes the descriptors a worker opened when the
// worker ends, however it ends.
//
// The folder's last component is where an id lands (`<root>/<conversation id>` in
// codeMode and `tic serve`): it is checked by `checkWorkspaceId` and created and opened
// relative to a descriptor of its parent without following a link, so neither an id nor
// a link planted under the root can lead a session elsewhere.

import { closeSync, constants as C, lstatSync, mkdirSync, openSync, realpathSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { HostMount, type HostMountOptions } from './wasi/hostfs.js';
import type { Quota } from './wasi/memfs.js';

export class WorkspaceError extends Error {}

/** The longest id that may name a workspace folder. */
export const MAX_WORKSPACE_ID_LENGTH = 128;

const ID_CHARS = /^[A-Za-z0-9._-]+$/;

/**
 * Checks an id that names a folder under a workspace root (a codeMode conversation, a
 * `tic serve` session): letters, digits, ".", "_" and "-", at most 128 of them, and not
 * "." or ".." (the root itself and its parent). Throws a WorkspaceError naming what is
 * wrong, starting with `what` and the id.
 */
export function checkWorkspaceId(id: unknown, what = 'workspace id'): string {
  const named = `${what} ${JSON.stringify(id)}`;
  if (typeof id !== 'string') throw new WorkspaceError(`${named}: must be a string`);
  if (id.length === 0) throw new WorkspaceError(`${named}: is empty`);
  if (id.length > MAX_WORKSPACE_ID_LENGTH) throw new WorkspaceError(`${named.slice(0, 80)}...: is ${id.length} characters long (at most ${MAX_WORKSPACE_ID_LENGTH})`);
  if (id === '.' || id === '..') throw new WorkspaceError(`${named}: would name the workspace root or its parent, not a folder of its own`);
  if (!ID_CHARS.test(id)) throw new WorkspaceError(`${named}: names its workspace folder, so use letters, digits, ".", "_" or "-" (no path separators, NUL or other characters)`);
  return id;
}

/**
 * Opens (creating it if missing) the host folder `dir` as a mount for one session. The
 * path up to `dir`'s parent is the embedder's and may contain links; `dir` itself is
 * created and opened from a descriptor of the parent with O_NOFOLLOW: a link there is
 * refused, never followed.
 */
export function openWorkspace(dir: string, quota: Quota, options: Omit<HostMountOptions, 'fd'> = {}): HostMount {
  if (process.platform !== 'linux') throw new WorkspaceError(`a workspace folder needs Linux (its containment relies on /proc/self/fd); run without one to keep the workspace in memory`);
  const full = resolve(dir);
  const name = basename(full);
  if (full === '/' || name === '') throw new WorkspaceError(`workspace ${dir}: the file system's root cannot be a workspace`);
  let parentFd = -1;
  let fd = -1;
  try {
    const parentPath = dirname(full);
    mkdirSync(parentPath, { recursive: true });
    const parent = realpathSync(parentPath);
    parentFd = openSync(parent, C.O_RDONLY | C.O_DIRECTORY);
    const at = `/proc/self/fd/${parentFd}/${name}`;
    try {
      mkdirSync(at, 0o755); // mkdir never follows a link
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      fd = openSync(at, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'ENOTDIR') {
        const link = lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink();
        throw new WorkspaceError(`workspace ${dir} is ${link ? 'a symbolic link' : 'not a folder'}; it is never followed (give the folder itself)`);
      }
      throw err;
    }
    const owned = fd;
    fd = -1; // the mount owns it from here, and closes it if it fails
    return new HostMount(`${parent}/${name}`, quota, { ...options, fd: owned });
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    if (err instanceof WorkspaceError) throw err;
    throw new WorkspaceError(`cannot open the workspace folder ${dir}: ${(err as Error).message}`);
  } finally {
    if (parentFd >= 0) closeSync(parentFd);
  }
}
