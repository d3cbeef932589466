// A small in-memory file system: the only files a guest ever sees.
//
// Every mount is a tree of its own. Paths resolve inside the tree they start in: `..`
// stops at the mount's root (and fails there), there are no symlinks, and no node
// refers to anything on the host. That is what makes the guest's view of files safe.

import { Errno } from './constants.js';

export class WasiError extends Error {
  constructor(readonly errno: number, message?: string) {
    super(message ?? `WASI errno ${errno}`);
  }
}

let nextIno = 1n;

export interface FileNode {
  kind: 'file';
  readonly readonly: boolean;
  ino: bigint;
  /** Backing store; only the first `size` bytes are file contents. */
  data: Uint8Array;
  size: number;
  mtimeNs: bigint;
  /** The byte budget of the tree this file is in (writable mounts only). */
  quota?: Quota;
}

export interface DirNode {
  kind: 'dir';
  readonly readonly: boolean;
  ino: bigint;
  entries: Map<string, FsNode>;
  /** null for a mount root: `..` from there is an escape attempt. */
  parent: DirNode | null;
  mtimeNs: bigint;
  /** On a mount root: the byte budget of the whole tree. */
  quota?: Quota;
}

/**
 * How many bytes a writable tree may hold: file contents, plus NODE_COST per file or
 * folder (so a million empty files cost too). The tree lives in host memory: without a
 * budget a guest could fill the host's.
 */
export interface Quota {
  limit: number;
  used: number;
}

export const NODE_COST = 512;

/** Books `delta` bytes against `quota`; growth past the limit fails with ENOSPC. */
export function charge(quota: Quota | undefined, delta: number): void {
  if (!quota) return;
  if (delta > 0 && quota.used + delta > quota.limit) throw new WasiError(Errno.NOSPC, 'the workspace is full');
  quota.used += delta;
}

/** Puts every node of `root`'s tree under `quota` and recounts what it holds. */
export function applyQuota(root: DirNode, quota: Quota): void {
  root.quota = quota;
  let used = 0;
  const walk = (dir: DirNode) => {
    for (const node of dir.entries.values()) {
      used += NODE_COST;
      if (node.kind === 'file') {
        node.quota = quota;
        used += node.size;
      } else {
        walk(node);
      }
    }
  };
  walk(root);
  quota.used = used;
}

export type FsNode = FileNode | DirNode;

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export function makeDir(readonly: boolean, parent: DirNode | null = null): DirNode {
  return { kind: 'dir', readonly, ino: nextIno++, entries: new Map(), parent, mtimeNs: nowNs() };
}

export function makeFile(data: Uint8Array, readonly: boolean): FileNode {
  return { kind: 'file', readonly, ino: nextIno++, data, size: data.length, mtimeNs: nowNs() };
}

/** Read-only bytes known by size up front and read on first use (then shared). */
export interface LazyBytes {
  readonly size: number;
  load(): Uint8Array;
}

function lazyFile(bytes: LazyBytes): FileNode {
  return {
    kind: 'file',
    readonly: true,
    ino: nextIno++,
    size: bytes.size,
    mtimeNs: nowNs(),
    get data() {
      return bytes.load();
    },
    set data(_: Uint8Array) {
      throw new WasiError(Errno.ROFS);
    },
  };
}

/** Builds a read-only tree from `{ 'a/b.txt': bytes }`. */
export function readonlyTree(files: Record<string, Uint8Array | LazyBytes>): DirNode {
  const root = makeDir(true);
  for (const [path, data] of Object.entries(files)) {
    const parts = path.split('/').filter(Boolean);
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      let next = dir.entries.get(part);
      if (!next) {
        next = makeDir(true, dir);
        dir.entries.set(part, next);
      }
      if (next.kind !== 'dir') throw new Error(`readonlyTree: ${path} crosses a file`);
      dir = next;
    }
    dir.entries.set(parts[parts.length - 1]!, data instanceof Uint8Array ? makeFile(data, true) : lazyFile(data));
  }
  return root;
}

export interface Resolved {
  /** The directory that holds (or would hold) the final component. */
  parent: DirNode;
  /** The final component; '' when the path names `dir` itself (".", "a/..") */
  name: string;
  node: FsNode | undefined;
}

/**
 * Resolves a guest path relative to `dir`. Absolute paths are refused: wasi-libc maps
 * them onto preopens before calling the host, so one reaching here is an escape attempt.
 */
export function resolve(dir: DirNode, path: string): Resolved {
  if (path.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE, `absolute path ${path}`);
  if (path.includes('\0')) throw new WasiError(Errno.INVAL);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur = dir;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (part === '..') {
      if (cur.parent === null) throw new WasiError(Errno.NOTCAPABLE, 'path leaves its mount');
      cur = cur.parent;
      if (last) return { parent: cur, name: '', node: cur };
      continue;
    }
    const next = cur.entries.get(part);
    if (last) return { parent: cur, name: part, node: next };
    if (!next) throw new WasiError(Errno.NOENT);
    if (next.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    cur = next;
  }
  return { parent: cur, name: '', node: cur };
}

export function writeAt(file: FileNode, src: Uint8Array, offset: number): number {
  if (file.readonly) throw new WasiError(Errno.ROFS);
  const end = offset + src.length;
  if (end > file.size) charge(file.quota, end - file.size);
  if (end > file.data.length) {
    const grown = new Uint8Array(Math.max(end, file.data.length * 2, 64));
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  }
  file.data.set(src, offset);
  if (end > file.size) file.size = end;
  file.mtimeNs = nowNs();
  return src.length;
}

export function truncate(file: FileNode, size: number): void {
  if (file.readonly) throw new WasiError(Errno.ROFS);
  charge(file.quota, size - file.size);
  if (size > file.data.length) {
    const grown = new Uint8Array(size);
    grown.set(file.data.subarray(0, file.size));
    file.data = grown;
  } else if (size < file.size) {
    file.data.fill(0, size, file.size);
  }
  file.size = size;
  file.mtimeNs = nowNs();
}

/** True when `maybeChild` is `dir` or lies below it (renaming a dir into itself). */
export function contains(dir: DirNode, maybeChild: DirNode): boolean {
  for (let d: DirNode | null = maybeChild; d; d = d.parent) if (d === dir) return true;
  return false;
}

export function mountRoot(dir: DirNode): DirNode {
  let d = dir;
  while (d.parent) d = d.parent;
  return d;
}
