// What the WASI host (preview1.ts) needs of a mounted tree, whichever holds the files:
// memory (memfs.ts: the stdlib, a workspace without a host folder) or a host folder
// (hostfs.ts). A path reaches a mount as a list of components already resolved against
// the mount's root (`resolvePath`), so `..` can never leave it.

import { Errno } from './constants.js';
import { WasiError } from './memfs.js';

/** What fd_filestat_get / path_filestat_get report. */
export interface Stat {
  dev: bigint;
  ino: bigint;
  kind: 'file' | 'dir';
  nlink: bigint;
  size: bigint;
  atimNs: bigint;
  mtimNs: bigint;
  ctimNs: bigint;
}

/** A new time for fd/path_filestat_set_times: nanoseconds, 'now', or unchanged (undefined). */
export type TimeSpec = bigint | 'now' | undefined;

/** One open file: positions are the caller's, every call says where. */
export interface OpenedFile {
  /** The in-memory file it reads and writes (memfs), which a checkpoint finds it by. */
  readonly node?: object;
  read(dst: Uint8Array, pos: number): number;
  write(src: Uint8Array, pos: number): number;
  size(): number;
  stat(): Stat;
  truncate(size: number): void;
  setTimes(atim: TimeSpec, mtim: TimeSpec): void;
  /** fd_sync / fd_datasync: the data is where the mount keeps it for good when this returns. */
  sync(dataOnly: boolean): void;
  close(): void;
}

export interface OpenFlags {
  create: boolean;
  excl: boolean;
  trunc: boolean;
  /** O_DIRECTORY: the path must be a folder. */
  directory: boolean;
  read: boolean;
  write: boolean;
}

export interface DirEntry {
  name: string;
  kind: 'file' | 'dir';
  ino: bigint;
}

/**
 * A folder being read, entry by entry. It holds a place in the folder, never a copy of
 * its listing: a guest with many folders half-read costs the host little each.
 */
export interface DirCursor {
  /** The next entry; undefined at the end. */
  next(): DirEntry | undefined;
  close(): void;
}

export interface Mount {
  readonly readonly: boolean;
  stat(parts: string[]): Stat;
  /** A file opens into an OpenedFile; a folder into 'dir' (folder descriptors hold a path). */
  open(parts: string[], flags: OpenFlags): OpenedFile | 'dir';
  list(parts: string[]): DirEntry[];
  /** Starts reading the folder `parts` (fd_readdir); close() the cursor when done. */
  openDir(parts: string[]): DirCursor;
  mkdir(parts: string[]): void;
  rmdir(parts: string[]): void;
  unlink(parts: string[]): void;
  rename(from: string[], to: string[]): void;
  setTimes(parts: string[], atim: TimeSpec, mtim: TimeSpec): void;
}

/**
 * `path` (relative, as wasi-libc sends it) resolved against `base` (components from the
 * mount's root). There are no links in a guest's view, so `..` is lexical; going above
 * the root is an escape attempt, as is an absolute path.
 */
export function resolvePath(base: readonly string[], path: string): string[] {
  if (path.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE, `absolute path ${path}`);
  if (path.includes('\0')) throw new WasiError(Errno.INVAL);
  const parts = [...base];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new WasiError(Errno.NOTCAPABLE, 'path leaves its mount');
      parts.pop();
    } else parts.push(part);
  }
  return parts;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
