// A small in-memory file system: the only files a guest ever sees.
//
// Every mount is a tree of its own. Paths resolve inside the tree they start in: `..`
// stops at the mount's root (and fails there), there are no symlinks, and no node
// refers to anything on the host. That is what makes the guest's view of files safe.

import { Errno } from './constants.js';
import { type DirCursor, type DirEntry, type Mount, type OpenFlags, type OpenedFile, type Stat, type TimeSpec, nowNs } from './vfs.js';

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
  /** Backing store; only the first `size` bytes are file contents, the rest are zeros. */
  data: Uint8Array;
  size: number;
  /** Descriptors open on it: a file removed while open keeps its bytes (and its cost) until the last closes. */
  opens?: number;
  /** Removed from its folder (unlinked or replaced by a rename) while open. */
  orphaned?: boolean;
  mtimeNs: bigint;
  /** Set by utime; mtimeNs otherwise. */
  atimeNs?: bigint;
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
  atimeNs?: bigint;
  /** On a mount root: the byte budget of the whole tree. */
  quota?: Quota;
}

/**
 * How many bytes a writable tree may hold: its files' buffers (contents plus the room
 * a growing file keeps to grow into), plus NODE_COST per file or folder (so a million
 * empty files cost too), including files removed while still open. The tree lives in
 * host memory: without a budget a guest could fill the host's.
 */
export interface Quota {
  limit: number;
  used: number;
  /** Files whose buffer is bigger than their size: that room is given back when the quota runs short. */
  spare?: Set<FileNode>;
}

export const NODE_COST = 512;

/**
 * What a long name costs beyond NODE_COST: names reach 4,096 bytes (MAX_PATH_BYTES), and
 * the host holds each as a string of up to two bytes a character. Names up to 128
 * characters cost nothing more, so everyday trees are counted as before.
 */
export function nameCost(name: string): number {
  return Math.max(0, 2 * name.length - 256);
}

/**
 * Books `delta` bytes against `quota`; growth past the limit fails with ENOSPC, once the
 * room files keep to grow into has been given back.
 */
export function charge(quota: Quota | undefined, delta: number): void {
  if (!quota) return;
  if (delta > 0 && quota.used + delta > quota.limit) {
    if (quota.spare?.size) reclaimSpare(quota);
    if (quota.used + delta > quota.limit) throw new WasiError(Errno.NOSPC, 'the workspace is full');
  }
  quota.used += delta;
}

/** Puts every node of `root`'s tree under `quota` and recounts what it holds. */
export function applyQuota(root: DirNode, quota: Quota): void {
  root.quota = quota;
  let used = 0;
  const walk = (dir: DirNode) => {
    for (const [name, node] of dir.entries) {
      used += NODE_COST + nameCost(name);
      if (node.kind === 'file') {
        node.quota = quota;
        used += node.data.length;
        if (node.data.length > node.size) (quota.spare ??= new Set()).add(node);
      } else {
        walk(node);
      }
    }
  };
  walk(root);
  quota.used = used;
}

export type FsNode = FileNode | DirNode;


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

/** Gives back the room files keep to grow into (their buffers shrink to their sizes). */
function reclaimSpare(quota: Quota): void {
  for (const file of quota.spare ?? []) {
    if (file.data.length > file.size) {
      quota.used -= file.data.length - file.size;
      file.data = file.data.slice(0, file.size);
    }
  }
  quota.spare?.clear();
}

/**
 * Makes `file.data` hold at least `end` bytes. The quota pays for every byte the buffer
 * grows by; a file grows by doubling (appends stay linear) only as far as the quota has
 * room for, and that room is reclaimed before a write is refused for want of space.
 */
function reserve(file: FileNode, end: number): void {
  const quota = file.quota;
  if (end <= file.data.length) return;
  // Short of room: give back what files keep to grow into (this one's too) before charging.
  if (quota?.spare?.size && quota.used + end - file.data.length > quota.limit) reclaimSpare(quota);
  const have = file.data.length;
  let capacity = Math.max(end, have * 2, 64);
  if (quota) {
    charge(quota, end - have);
    capacity = Math.min(capacity, end + Math.max(0, quota.limit - quota.used));
    quota.used += capacity - end;
    if (capacity > end) (quota.spare ??= new Set()).add(file);
  }
  const grown = new Uint8Array(capacity);
  grown.set(file.data.subarray(0, file.size));
  file.data = grown;
}

export function writeAt(file: FileNode, src: Uint8Array, offset: number): number {
  if (file.readonly) throw new WasiError(Errno.ROFS);
  const end = offset + src.length;
  reserve(file, end);
  file.data.set(src, offset);
  if (end > file.size) file.size = end;
  file.mtimeNs = nowNs();
  return src.length;
}

export function truncate(file: FileNode, size: number): void {
  if (file.readonly) throw new WasiError(Errno.ROFS);
  if (size > file.size) {
    reserve(file, size); // past the old size the buffer is zeros already
  } else if (size < file.size) {
    // The bytes cut off are freed, not kept as zeros in a buffer the quota no longer sees.
    const freed = file.data.length - size;
    file.data = file.data.slice(0, size);
    charge(file.quota, -freed);
    file.quota?.spare?.delete(file);
  }
  file.size = size;
  file.mtimeNs = nowNs();
}

/** A file left its folder: its name and bytes are given back now, or when its last descriptor closes. */
function removeFile(file: FileNode): void {
  if (file.opens) {
    file.orphaned = true;
    return;
  }
  release(file);
}

function release(file: FileNode): void {
  charge(file.quota, -(NODE_COST + file.data.length));
  file.quota?.spare?.delete(file);
  file.data = new Uint8Array(0);
  file.size = 0;
}

/** True when `maybeChild` is `dir` or lies below it (renaming a dir into itself). */
export function contains(dir: DirNode, maybeChild: DirNode): boolean {
  for (let d: DirNode | null = maybeChild; d; d = d.parent) if (d === dir) return true;
  return false;
}


function statOf(node: FsNode): Stat {
  const atim = node.atimeNs ?? node.mtimeNs;
  return {
    dev: 0n,
    ino: node.ino,
    kind: node.kind,
    nlink: 1n,
    size: BigInt(node.kind === 'file' ? node.size : 4096),
    atimNs: atim,
    mtimNs: node.mtimeNs,
    ctimNs: node.mtimeNs,
  };
}

function setNodeTimes(node: FsNode, atim: TimeSpec, mtim: TimeSpec): void {
  if (node.readonly) throw new WasiError(Errno.ROFS);
  const now = nowNs();
  const a = atim === 'now' ? now : atim;
  const m = mtim === 'now' ? now : mtim;
  if (a !== undefined) node.atimeNs = a;
  if (m !== undefined) {
    node.atimeNs ??= node.mtimeNs; // keep the access time where it was
    node.mtimeNs = m;
  }
}

/** An open descriptor on `file` (counted in `file.opens`; a file removed while open is released at its last close). */
export function openNode(file: FileNode): OpenedFile {
  file.opens = (file.opens ?? 0) + 1;
  let open = true;
  return {
    node: file,
    read: (dst, pos) => {
      if (pos >= file.size) return 0;
      const chunk = file.data.subarray(pos, Math.min(file.size, pos + dst.length));
      dst.set(chunk);
      return chunk.length;
    },
    write: (src, pos) => writeAt(file, src, pos),
    size: () => file.size,
    stat: () => statOf(file),
    truncate: (size) => truncate(file, size),
    setTimes: (atim, mtim) => setNodeTimes(file, atim, mtim),
    sync: () => {}, // memory is all this file has: nothing further to make durable
    close: () => {
      if (!open) return;
      open = false;
      file.opens! -= 1;
      if (file.opens === 0 && file.orphaned) release(file);
    },
  };
}

/** A memfs tree as a mount: what the WASI host sees of /lib and an in-memory /workspace. */
export class MemMount implements Mount {
  constructor(readonly root: DirNode) {}

  get readonly(): boolean {
    return this.root.readonly;
  }

  private find(parts: string[]): { parent: DirNode; name: string; node: FsNode | undefined } {
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = cur.entries.get(parts[i]!);
      if (!next) throw new WasiError(Errno.NOENT);
      if (next.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
      cur = next;
    }
    if (parts.length === 0) return { parent: cur, name: '', node: cur };
    const name = parts[parts.length - 1]!;
    return { parent: cur, name, node: cur.entries.get(name) };
  }

  private existing(parts: string[]): FsNode {
    const { node } = this.find(parts);
    if (!node) throw new WasiError(Errno.NOENT);
    return node;
  }

  stat(parts: string[]): Stat {
    return statOf(this.existing(parts));
  }

  open(parts: string[], flags: OpenFlags): OpenedFile | 'dir' {
    const r = this.find(parts);
    let node = r.node;
    if (node) {
      if (flags.create && flags.excl) throw new WasiError(Errno.EXIST);
    } else {
      if (!flags.create) throw new WasiError(Errno.NOENT);
      if (r.parent.readonly) throw new WasiError(Errno.ROFS);
      const quota = this.root.quota;
      charge(quota, NODE_COST + nameCost(r.name));
      node = makeFile(new Uint8Array(0), false);
      if (quota) node.quota = quota;
      r.parent.entries.set(r.name, node);
      r.parent.mtimeNs = node.mtimeNs;
    }
    if (node.kind === 'dir') {
      if (flags.write) throw new WasiError(Errno.ISDIR);
      return 'dir';
    }
    if (flags.directory) throw new WasiError(Errno.NOTDIR);
    if (flags.write && node.readonly) throw new WasiError(Errno.ROFS);
    if (flags.trunc) truncate(node, 0);
    return openNode(node);
  }

  list(parts: string[]): DirEntry[] {
    const out: DirEntry[] = [];
    const cursor = this.openDir(parts);
    for (let e = cursor.next(); e; e = cursor.next()) out.push(e);
    return out;
  }

  /** Walks the folder's own map: a reader holds an iterator, never a copy of the listing. */
  openDir(parts: string[]): DirCursor {
    const dir = this.existing(parts);
    if (dir.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    const it = dir.entries.entries();
    return {
      next: () => {
        const r = it.next();
        if (r.done) return undefined;
        const [name, node] = r.value;
        return { name, kind: node.kind, ino: node.ino };
      },
      close: () => {},
    };
  }

  mkdir(parts: string[]): void {
    const r = this.find(parts);
    if (r.node) throw new WasiError(Errno.EXIST);
    if (r.parent.readonly) throw new WasiError(Errno.ROFS);
    charge(this.root.quota, NODE_COST + nameCost(r.name));
    r.parent.entries.set(r.name, makeDir(false, r.parent));
  }

  rmdir(parts: string[]): void {
    const r = this.find(parts);
    if (!r.node) throw new WasiError(Errno.NOENT);
    if (r.node.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    if (r.name === '') throw new WasiError(Errno.PERM);
    if (r.parent.readonly) throw new WasiError(Errno.ROFS);
    if (r.node.entries.size) throw new WasiError(Errno.NOTEMPTY);
    r.parent.entries.delete(r.name);
    charge(this.root.quota, -(NODE_COST + nameCost(r.name)));
  }

  unlink(parts: string[]): void {
    const r = this.find(parts);
    if (!r.node) throw new WasiError(Errno.NOENT);
    if (r.node.kind === 'dir') throw new WasiError(Errno.ISDIR);
    if (r.parent.readonly) throw new WasiError(Errno.ROFS);
    r.parent.entries.delete(r.name);
    charge(this.root.quota, -nameCost(r.name)); // the name goes now, the file when it is closed
    removeFile(r.node);
  }

  rename(fromParts: string[], toParts: string[]): void {
    const from = this.find(fromParts);
    const to = this.find(toParts);
    if (!from.node) throw new WasiError(Errno.NOENT);
    if (from.name === '' || to.name === '') throw new WasiError(Errno.INVAL);
    if (from.parent.readonly || to.parent.readonly) throw new WasiError(Errno.ROFS);
    const moving = from.node;
    if (moving.kind === 'dir' && contains(moving, to.parent)) throw new WasiError(Errno.INVAL);
    if (to.node) {
      if (to.node.kind === 'dir' && moving.kind !== 'dir') throw new WasiError(Errno.ISDIR);
      if (to.node.kind !== 'dir' && moving.kind === 'dir') throw new WasiError(Errno.NOTDIR);
      if (to.node.kind === 'dir' && to.node.entries.size) throw new WasiError(Errno.NOTEMPTY);
    }
    // Names: `from`'s goes, `to`'s is there afterwards (already paid for if it existed).
    if (!to.node) charge(this.root.quota, nameCost(to.name) - nameCost(from.name));
    else if (to.node !== moving) charge(this.root.quota, -nameCost(from.name));
    if (to.node && to.node !== moving) {
      if (to.node.kind === 'file') removeFile(to.node);
      else charge(this.root.quota, -NODE_COST);
    }
    from.parent.entries.delete(from.name);
    to.parent.entries.set(to.name, moving);
    if (moving.kind === 'dir') moving.parent = to.parent;
  }

  setTimes(parts: string[], atim: TimeSpec, mtim: TimeSpec): void {
    setNodeTimes(this.existing(parts), atim, mtim);
  }
}

/** One node of a saved tree: ids are positions in the list, parents come before children. */
interface SavedNode {
  kind: 'file' | 'dir';
  /** Its folder's id (the root is -1); absent for a file removed while still open. */
  parent?: number;
  name?: string;
  mtime: string;
  atime?: string;
  /** Files: offset and length of the contents in the blobs. */
  blob?: [number, number];
}

/**
 * A writable in-memory tree as data (for a checkpoint): its folders and files, and files
 * removed while open (`extra`, no parent), with the contents appended to `blobs`. `ids`
 * numbers the file nodes for the descriptors that refer to them.
 */
export function saveTree(root: DirNode, blobs: Uint8Array[], extra: Iterable<FileNode> = []): { saved: SavedNode[]; ids: Map<FileNode, number> } {
  const saved: SavedNode[] = [];
  const ids = new Map<FileNode, number>();
  let offset = blobs.reduce((n, b) => n + b.length, 0);
  const times = (n: FsNode) => ({ mtime: String(n.mtimeNs), ...(n.atimeNs !== undefined ? { atime: String(n.atimeNs) } : {}) });
  const addFile = (f: FileNode, parent?: number, name?: string) => {
    ids.set(f, saved.length);
    const bytes = f.data.subarray(0, f.size);
    blobs.push(bytes);
    saved.push({ kind: 'file', ...(parent !== undefined ? { parent, name } : {}), ...times(f), blob: [offset, bytes.length] });
    offset += bytes.length;
  };
  const walk = (dir: DirNode, id: number) => {
    for (const [name, node] of dir.entries) {
      if (node.kind === 'file') addFile(node, id, name);
      else {
        const childId = saved.length;
        saved.push({ kind: 'dir', parent: id, name, ...times(node) });
        walk(node, childId);
      }
    }
  };
  walk(root, -1);
  for (const f of extra) if (!ids.has(f)) addFile(f);
  return { saved, ids };
}

/**
 * Rebuilds a saved tree into `root` (emptied first) under its quota; returns the file
 * nodes by id. `saved` is hostile input: every field is checked, and the tree must fit the
 * quota as it would have had to when it was made.
 */
export function loadTree(root: DirNode, saved: unknown, blobs: Uint8Array): FileNode[] {
  if (!Array.isArray(saved)) throw new TreeStateError('wasi.tree: not a list');
  root.entries.clear();
  if (root.quota) {
    root.quota.used = 0;
    root.quota.spare?.clear();
  }
  const nodes: (FsNode | undefined)[] = [];
  const files: FileNode[] = [];
  const time = (v: unknown, where: string) => {
    if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) throw new TreeStateError(`${where}: not a time`);
    return BigInt(v);
  };
  for (const [id, raw] of saved.entries()) {
    const where = `wasi.tree[${id}]`;
    const n = raw as Partial<SavedNode> | null;
    if (typeof n !== 'object' || n === null) throw new TreeStateError(`${where}: not an object`);
    let parent: DirNode | undefined;
    if (n.parent !== undefined) {
      const p = n.parent === -1 ? root : Number.isInteger(n.parent) && n.parent < id ? nodes[n.parent] : undefined;
      if (!p || p.kind !== 'dir') throw new TreeStateError(`${where}.parent: not an earlier folder`);
      if (typeof n.name !== 'string' || n.name === '' || n.name === '.' || n.name === '..' || /[/\0]/.test(n.name) || n.name.length > 4096) throw new TreeStateError(`${where}.name: not a file name`);
      if (p.entries.has(n.name)) throw new TreeStateError(`${where}.name: twice in one folder`);
      parent = p;
    }
    const mtimeNs = time(n.mtime, `${where}.mtime`);
    if (n.kind === 'dir') {
      if (!parent) throw new TreeStateError(`${where}: a folder outside the tree`);
      charge(root.quota, NODE_COST + nameCost(n.name!));
      const dir = makeDir(false, parent);
      dir.mtimeNs = mtimeNs;
      if (n.atime !== undefined) dir.atimeNs = time(n.atime, `${where}.atime`);
      if (root.quota) dir.quota = root.quota;
      parent.entries.set(n.name!, dir);
      nodes.push(dir);
      continue;
    }
    if (n.kind !== 'file') throw new TreeStateError(`${where}.kind: not file or dir`);
    const [off, len] = Array.isArray(n.blob) ? n.blob : [];
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off! < 0 || len! < 0 || off! + len! > blobs.length) throw new TreeStateError(`${where}.blob: outside the checkpoint`);
    charge(root.quota, NODE_COST + (parent ? nameCost(n.name!) : 0) + len!);
    const file = makeFile(blobs.slice(off!, off! + len!), false);
    file.mtimeNs = mtimeNs;
    if (n.atime !== undefined) file.atimeNs = time(n.atime, `${where}.atime`);
    if (root.quota) file.quota = root.quota;
    if (parent) parent.entries.set(n.name!, file);
    else file.orphaned = true; // removed while open: released at its last close
    nodes.push(file);
    files[id] = file;
  }
  return files;
}

export class TreeStateError extends Error {}
