// The runtime's own WASI preview1 host. Node's `node:wasi` documents that it is no
// security boundary (and it hands the guest real host paths), so the guest gets this
// instead: a file system held in memory (see memfs.ts), stdio routed to callbacks,
// no sockets, an empty environment, and randomness from the host's CSPRNG.

import { builtin } from '../builtins.js';
import {
  Clock,
  Errno,
  EventType,
  FdFlags,
  FileType,
  FstFlags,
  MAX_PATH_BYTES,
  OFlags,
  Rights,
  SubClockFlags,
  WRITE_RIGHTS,
  Whence,
} from './constants.js';
import { type DirNode, type FileNode, MemMount, WasiError, loadTree, openNode, saveTree } from './memfs.js';
import { type DirCursor, type DirEntry, type Mount, type OpenedFile, type Stat, type TimeSpec, resolvePath } from './vfs.js';

/** A saved descriptor table that cannot be restored (hostile or from another runtime). */
export class WasiStateError extends Error {}

export type SavedFd =
  | { fd: number; kind: 'dir'; mount: string; parts: string[] }
  | { fd: number; kind: 'file'; mount: string; parts: string[]; node?: number; pos: number; append: boolean; writable: boolean; syncWrites: boolean };

export interface SavedWasi {
  maxFds: number;
  fds: SavedFd[];
  /** The in-memory workspace (memfs.ts saveTree). */
  tree?: unknown;
}

/** Thrown out of the guest when it calls proc_exit; the embedder decides what it means. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`guest exited with code ${code}`);
  }
}

export interface Preopen {
  /** Guest path of the mount, e.g. "/workspace". */
  guestPath: string;
  /** A tree in memory, or any other mount (a host folder: hostfs.ts). */
  root: DirNode | Mount;
}

export interface WasiOptions {
  args?: string[];
  env?: Record<string, string>;
  /** Mounts in fd order from 3 on. A snapshot pins this order: keep it stable. */
  preopens: Preopen[];
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
  /** Blocks for `ms` (poll_oneoff on a clock); an embedder may wake it early to interrupt. */
  sleep?: (ms: number) => void;
  /** Descriptors the guest may hold at once, stdio and mounts included (default DEFAULT_MAX_FDS); past it, EMFILE. */
  maxFds?: number;
}

/** Open descriptors per guest by default: one session cannot hold the process's. */
export const DEFAULT_MAX_FDS = 256;

/**
 * A folder being read by fd_readdir: the cursor's position and the entries taken from it
 * but not yet wholly handed to the guest (at most the one cut off by a full buffer).
 */
interface DirReading {
  cursor: DirCursor;
  /** Cookie (index) of `held[0]`, or of the cursor's next entry when nothing is held. */
  at: number;
  held: DirEntry[];
  ended: boolean;
}

type OpenFile =
  | { kind: 'stdio'; fd: 0 | 1 | 2 }
  /** `mount` and `parts` say where it was opened (a checkpoint reopens a host or /lib file by them). */
  | { kind: 'file'; file: OpenedFile; pos: number; append: boolean; writable: boolean; syncWrites: boolean; mount: Mount; parts: string[] }
  /** A folder descriptor holds its path from the mount's root: every use resolves it anew. */
  | { kind: 'dir'; mount: Mount; parts: string[]; preopen?: string; reading?: DirReading };

const SYNC_FLAGS = FdFlags.DSYNC | FdFlags.RSYNC | FdFlags.SYNC;

const asMount = (root: DirNode | Mount): Mount => ('kind' in root && root.kind === 'dir' ? new MemMount(root) : (root as Mount));

/** The times fd/path_filestat_set_times asks for. */
function timeSpecs(atim: bigint, mtim: bigint, flags: number): [TimeSpec, TimeSpec] {
  if ((flags & FstFlags.ATIM && flags & FstFlags.ATIM_NOW) || (flags & FstFlags.MTIM && flags & FstFlags.MTIM_NOW)) throw new WasiError(Errno.INVAL);
  // The guest's wasi-libc turns utimensat(path, NULL) ("now", as os.utime(path) and
  // Path.touch() ask) into both times given as 0: read that as now. An explicit (0, 0)
  // therefore sets the current time too.
  if (flags === (FstFlags.ATIM | FstFlags.MTIM) && atim === 0n && mtim === 0n) return ['now', 'now'];
  const a = flags & FstFlags.ATIM_NOW ? 'now' : flags & FstFlags.ATIM ? atim : undefined;
  const m = flags & FstFlags.MTIM_NOW ? 'now' : flags & FstFlags.MTIM ? mtim : undefined;
  return [a, m];
}

function checkMaxFds(n: number): number {
  if (!Number.isInteger(n) || n < 8) throw new RangeError(`maxFds must be an integer of at least 8 (stdio, the mounts and a few files), not ${n}`);
  return n;
}

function closeReading(dir: { reading?: DirReading }): void {
  if (dir.reading && !dir.reading.ended) dir.reading.cursor.close();
  dir.reading = undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

export class WasiPreview1 {
  private memory: WebAssembly.Memory | undefined;
  private readonly fds = new Map<number, OpenFile>();
  private readonly args: Uint8Array[];
  private readonly env: Uint8Array[];
  private readonly stdout: (bytes: Uint8Array) => void;
  private readonly stderr: (bytes: Uint8Array) => void;
  private readonly sleep: (ms: number) => void;
  private readonly startNs = process.hrtime.bigint();
  private maxFds: number;

  constructor(options: WasiOptions) {
    this.args = (options.args ?? ['python']).map((a) => encoder.encode(`${a}\0`));
    this.env = Object.entries(options.env ?? {}).map(([k, v]) => encoder.encode(`${k}=${v}\0`));
    this.stdout = options.stdout ?? (() => {});
    this.stderr = options.stderr ?? (() => {});
    this.sleep = options.sleep ?? ((ms) => Atomics.wait(sleepCell, 0, 0, ms));
    this.maxFds = checkMaxFds(options.maxFds ?? DEFAULT_MAX_FDS);
    this.fds.set(0, { kind: 'stdio', fd: 0 });
    this.fds.set(1, { kind: 'stdio', fd: 1 });
    this.fds.set(2, { kind: 'stdio', fd: 2 });
    options.preopens.forEach((p, i) => {
      this.fds.set(3 + i, { kind: 'dir', mount: asMount(p.root), parts: [], preopen: p.guestPath });
    });
  }

  /**
   * Puts `root` at the preopen `guestPath` (which keeps its fd): how a warm guest gets its
   * session's workspace. Descriptors opened in the old tree stay on it.
   */
  remount(guestPath: string, root: DirNode | Mount): void {
    for (const [fd, f] of this.fds) {
      if (f.kind === 'dir' && f.preopen === guestPath) {
        closeReading(f);
        this.fds.set(fd, { kind: 'dir', mount: asMount(root), parts: [], preopen: guestPath });
        return;
      }
    }
    throw new Error(`no preopen at ${guestPath}`);
  }

  /** Changes how many descriptors the guest may hold; those already open stay open. */
  setMaxFds(maxFds: number): void {
    this.maxFds = checkMaxFds(maxFds);
  }

  /**
   * The descriptor table as data, for a checkpoint (between cells): each descriptor by the
   * preopen it lies under and its path there, or, for a file of the in-memory workspace,
   * by its node in `saveTree`'s numbering (it may have been renamed or removed since it was
   * opened). With the tree of the in-memory workspace, when the workspace is in memory.
   */
  saveState(blobs: Uint8Array[]): SavedWasi {
    const preopens = [...this.fds].filter(([, f]) => f.kind === 'dir' && f.preopen !== undefined) as [number, Extract<OpenFile, { kind: 'dir' }>][];
    const mountOf = (m: Mount) => {
      const p = preopens.find(([, f]) => f.mount === m);
      if (!p) throw new Error('a descriptor lies under no mount');
      return p[1].preopen!;
    };
    const workspace = preopens.find(([, f]) => f.preopen === '/workspace')?.[1].mount;
    // Files removed while open live on only through their descriptors: saved with no folder.
    const orphans = [...this.fds.values()].flatMap((f) => (f.kind === 'file' && (f.file.node as FileNode | undefined)?.orphaned ? [f.file.node as FileNode] : []));
    const tree = workspace instanceof MemMount ? saveTree(workspace.root, blobs, orphans) : undefined;
    const fds: SavedFd[] = [];
    for (const [fd, f] of this.fds) {
      if (f.kind === 'stdio' || (f.kind === 'dir' && f.preopen !== undefined)) continue;
      if (f.kind === 'dir') fds.push({ fd, kind: 'dir', mount: mountOf(f.mount), parts: f.parts });
      else {
        const node = f.file.node !== undefined && tree ? tree.ids.get(f.file.node as FileNode) : undefined;
        fds.push({ fd, kind: 'file', mount: mountOf(f.mount), parts: f.parts, ...(node !== undefined ? { node } : {}), pos: f.pos, append: f.append, writable: f.writable, syncWrites: f.syncWrites });
      }
    }
    return { maxFds: this.maxFds, fds, ...(tree ? { tree: tree.saved } : {}) };
  }

  /**
   * Restores what saveState wrote into this fresh host (the same preopens): the in-memory
   * workspace's tree into its root, the descriptors reopened. `saved` is hostile input:
   * checked field by field (CheckpointError-like errors name the field).
   */
  loadState(saved: unknown, blobs: Uint8Array): void {
    const s = saved as Partial<SavedWasi> | null;
    if (typeof s !== 'object' || s === null) throw new WasiStateError('wasi: not an object');
    if (!Number.isInteger(s.maxFds) || s.maxFds! < 8 || s.maxFds! > 65536) throw new WasiStateError('wasi.maxFds: out of range');
    if (!Array.isArray(s.fds) || s.fds.length > s.maxFds!) throw new WasiStateError('wasi.fds: not a list within maxFds');
    const preopens = new Map<string, Mount>();
    for (const f of this.fds.values()) if (f.kind === 'dir' && f.preopen !== undefined) preopens.set(f.preopen, f.mount);
    const workspace = preopens.get('/workspace');
    let nodes: FileNode[] = [];
    if (s.tree !== undefined) {
      if (!(workspace instanceof MemMount)) throw new WasiStateError('wasi.tree: the session has no in-memory workspace to restore it into');
      nodes = loadTree(workspace.root, s.tree, blobs);
    }
    this.setMaxFds(s.maxFds!);
    for (const [i, e] of (s.fds as SavedFd[]).entries()) {
      const where = `wasi.fds[${i}]`;
      if (typeof e !== 'object' || e === null) throw new WasiStateError(`${where}: not an object`);
      if (!Number.isInteger(e.fd) || e.fd < 3 || e.fd >= s.maxFds! || this.fds.has(e.fd)) throw new WasiStateError(`${where}.fd: not a free descriptor`);
      const mount = typeof e.mount === 'string' ? preopens.get(e.mount) : undefined;
      if (!mount) throw new WasiStateError(`${where}.mount: no such mount`);
      if (!Array.isArray(e.parts) || e.parts.some((p) => typeof p !== 'string' || p === '' || p === '.' || p === '..' || /[/\0]/.test(p))) {
        throw new WasiStateError(`${where}.parts: not a path inside its mount`);
      }
      if (e.kind === 'dir') {
        this.fds.set(e.fd, { kind: 'dir', mount, parts: e.parts });
        continue;
      }
      if (e.kind !== 'file') throw new WasiStateError(`${where}.kind: not file or dir`);
      if (!Number.isSafeInteger(e.pos) || e.pos < 0) throw new WasiStateError(`${where}.pos: not a position`);
      for (const k of ['append', 'writable', 'syncWrites'] as const) if (typeof e[k] !== 'boolean') throw new WasiStateError(`${where}.${k}: not a boolean`);
      let file: OpenedFile;
      if (e.node !== undefined) {
        const node = Number.isInteger(e.node) ? nodes[e.node] : undefined;
        if (!node || mount !== workspace) throw new WasiStateError(`${where}.node: no such file in the workspace`);
        file = openNode(node);
      } else {
        // A /lib or host-folder file: opened again by its path (gone since: the descriptor is dropped).
        if (e.writable && mount.readonly) throw new WasiStateError(`${where}: writable on a read-only mount`);
        try {
          const opened = mount.open(e.parts, { create: false, excl: false, trunc: false, directory: false, read: true, write: e.writable });
          if (opened === 'dir') continue;
          file = opened;
        } catch {
          continue;
        }
      }
      this.fds.set(e.fd, { kind: 'file', file, pos: e.pos, append: e.append, writable: e.writable, syncWrites: e.syncWrites, mount, parts: e.parts });
    }
  }

  /** Must be called with the instance's memory before the guest runs. */
  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  private view(): DataView {
    return new DataView(this.memory!.buffer);
  }

  private bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory!.buffer, ptr, len);
  }

  private readPath(ptr: number, len: number): string {
    if (len > MAX_PATH_BYTES) throw new WasiError(Errno.NAMETOOLONG);
    try {
      return decoder.decode(this.bytes(ptr, len));
    } catch {
      throw new WasiError(Errno.INVAL);
    }
  }

  private fd(fd: number): OpenFile {
    const f = this.fds.get(fd);
    if (!f) throw new WasiError(Errno.BADF);
    return f;
  }

  private dirFd(fd: number): { mount: Mount; parts: string[] } {
    const f = this.fd(fd);
    if (f.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    return f;
  }

  /** The mount and the components from its root of the path `fd` + the guest's string. */
  private path(fd: number, ptr: number, len: number): { mount: Mount; parts: string[] } {
    const base = this.dirFd(fd);
    return { mount: base.mount, parts: resolvePath(base.parts, this.readPath(ptr, len)) };
  }

  private fileFd(fd: number): Extract<OpenFile, { kind: 'file' }> {
    const f = this.fd(fd);
    if (f.kind !== 'file') throw new WasiError(f.kind === 'dir' ? Errno.ISDIR : Errno.SPIPE);
    return f;
  }

  private allocFd(file: OpenFile): number {
    if (this.fds.size >= this.maxFds) throw new WasiError(Errno.MFILE, `too many open files (at most ${this.maxFds} per session)`);
    let fd = 3;
    while (this.fds.has(fd)) fd++;
    this.fds.set(fd, file);
    return fd;
  }

  private iovecs(iovs: number, count: number): Uint8Array[] {
    const v = this.view();
    const out: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const ptr = v.getUint32(iovs + i * 8, true);
      const len = v.getUint32(iovs + i * 8 + 4, true);
      out.push(this.bytes(ptr, len));
    }
    return out;
  }

  private writeFilestat(ptr: number, st: Stat | 'stdio'): void {
    const v = this.view();
    for (let i = 0; i < 64; i += 8) v.setBigUint64(ptr + i, 0n, true);
    if (st === 'stdio') {
      v.setUint8(ptr + 16, FileType.CHARACTER_DEVICE);
      v.setBigUint64(ptr + 24, 1n, true);
      return;
    }
    v.setBigUint64(ptr, st.dev, true);
    v.setBigUint64(ptr + 8, st.ino, true);
    v.setUint8(ptr + 16, st.kind === 'dir' ? FileType.DIRECTORY : FileType.REGULAR_FILE);
    v.setBigUint64(ptr + 24, st.nlink, true);
    v.setBigUint64(ptr + 32, st.size, true);
    v.setBigUint64(ptr + 40, st.atimNs, true);
    v.setBigUint64(ptr + 48, st.mtimNs, true);
    v.setBigUint64(ptr + 56, st.ctimNs, true);
  }

  private statOf(f: OpenFile): Stat | 'stdio' {
    return f.kind === 'stdio' ? 'stdio' : f.kind === 'file' ? f.file.stat() : f.mount.stat(f.parts);
  }

  /** Every import returns an errno; WasiError becomes its errno, anything else EIO. */
  private guard<A extends unknown[]>(fn: (...args: A) => number | void): (...args: A) => number {
    return (...args: A) => {
      try {
        return fn.apply(this, args) ?? Errno.SUCCESS;
      } catch (err) {
        if (err instanceof WasiError) return err.errno;
        if (err instanceof WasiExit) throw err;
        return Errno.IO;
      }
    };
  }

  // ---- the imports ----

  private args_sizes_get(countPtr: number, sizePtr: number): void {
    this.sizes(this.args, countPtr, sizePtr);
  }
  private args_get(argv: number, buf: number): void {
    this.strings(this.args, argv, buf);
  }
  private environ_sizes_get(countPtr: number, sizePtr: number): void {
    this.sizes(this.env, countPtr, sizePtr);
  }
  private environ_get(environ: number, buf: number): void {
    this.strings(this.env, environ, buf);
  }
  private sizes(list: Uint8Array[], countPtr: number, sizePtr: number): void {
    const v = this.view();
    v.setUint32(countPtr, list.length, true);
    v.setUint32(sizePtr, list.reduce((n, s) => n + s.length, 0), true);
  }
  private strings(list: Uint8Array[], ptrs: number, buf: number): void {
    const v = this.view();
    let at = buf;
    list.forEach((s, i) => {
      v.setUint32(ptrs + i * 4, at, true);
      this.bytes(at, s.length).set(s);
      at += s.length;
    });
  }

  private clock_res_get(id: number, resPtr: number): void {
    if (id > Clock.THREAD_CPUTIME) throw new WasiError(Errno.INVAL);
    this.view().setBigUint64(resPtr, 1000n, true);
  }
  private clock_time_get(id: number, _precision: bigint, timePtr: number): void {
    let t: bigint;
    if (id === Clock.REALTIME) t = BigInt(Date.now()) * 1_000_000n;
    else if (id <= Clock.THREAD_CPUTIME) t = process.hrtime.bigint() - this.startNs;
    else throw new WasiError(Errno.INVAL);
    this.view().setBigUint64(timePtr, t, true);
  }

  private random_get(ptr: number, len: number): void {
    builtin('node:crypto').randomFillSync(this.bytes(ptr, len));
  }

  private proc_exit(code: number): void {
    throw new WasiExit(code);
  }
  private sched_yield(): void {}

  private fd_prestat_get(fd: number, ptr: number): void {
    const f = this.fds.get(fd);
    if (!f || f.kind !== 'dir' || f.preopen === undefined) throw new WasiError(Errno.BADF);
    const v = this.view();
    v.setUint32(ptr, 0, true);
    v.setUint32(ptr + 4, encoder.encode(f.preopen).length, true);
  }
  private fd_prestat_dir_name(fd: number, ptr: number, len: number): void {
    const f = this.fds.get(fd);
    if (!f || f.kind !== 'dir' || f.preopen === undefined) throw new WasiError(Errno.BADF);
    const name = encoder.encode(f.preopen);
    this.bytes(ptr, Math.min(len, name.length)).set(name.subarray(0, len));
  }

  private fd_fdstat_get(fd: number, ptr: number): void {
    const f = this.fd(fd);
    const v = this.view();
    const type =
      f.kind === 'stdio' ? FileType.CHARACTER_DEVICE : f.kind === 'dir' ? FileType.DIRECTORY : FileType.REGULAR_FILE;
    v.setUint8(ptr, type);
    const flags = f.kind === 'file' ? (f.append ? FdFlags.APPEND : 0) | (f.syncWrites ? FdFlags.SYNC : 0) : 0;
    v.setUint16(ptr + 2, flags, true);
    const writable = f.kind === 'stdio' ? f.fd !== 0 : f.kind === 'file' ? f.writable : !f.mount.readonly;
    const rights = writable ? Rights.ALL : Rights.ALL & ~WRITE_RIGHTS;
    v.setBigUint64(ptr + 8, rights, true);
    // A folder passes on the rights a file opened in it may get. wasi-libc's access(W_OK)
    // asks for FD_WRITE there: a read-only mount withholds it, so os.access is False under
    // /lib. The other write rights stay: a write open still asks path_open for them and is
    // refused there, at open, with EROFS (not at the first write, not as a read-only open).
    const inheriting = f.kind !== 'dir' ? rights : f.mount.readonly ? Rights.ALL & ~Rights.FD_WRITE : Rights.ALL;
    v.setBigUint64(ptr + 16, inheriting, true);
  }
  private fd_fdstat_set_flags(fd: number, flags: number): void {
    const f = this.fd(fd);
    // NONBLOCK is true of every descriptor here already (files and stdio never block).
    if (f.kind === 'file') {
      f.append = (flags & FdFlags.APPEND) !== 0;
      f.syncWrites = (flags & SYNC_FLAGS) !== 0;
    } else if (flags & (FdFlags.APPEND | SYNC_FLAGS)) throw new WasiError(Errno.NOTSUP);
  }
  private fd_fdstat_set_rights(fd: number): void {
    this.fd(fd);
    throw new WasiError(Errno.NOTSUP); // rights are not tracked per descriptor: say so, do not pretend
  }

  private fd_filestat_get(fd: number, ptr: number): void {
    this.writeFilestat(ptr, this.statOf(this.fd(fd)));
  }
  private fd_filestat_set_size(fd: number, size: bigint): void {
    const f = this.fd(fd);
    if (f.kind !== 'file') throw new WasiError(f.kind === 'dir' ? Errno.ISDIR : Errno.BADF);
    if (!f.writable) throw new WasiError(Errno.BADF);
    f.file.truncate(Number(size));
  }
  private fd_filestat_set_times(fd: number, atim: bigint, mtim: bigint, flags: number): void {
    const f = this.fd(fd);
    const [a, m] = timeSpecs(atim, mtim, flags);
    if (f.kind === 'file') f.file.setTimes(a, m);
    else if (f.kind === 'dir') f.mount.setTimes(f.parts, a, m);
    else throw new WasiError(Errno.NOTSUP);
  }
  private fd_advise(fd: number): void {
    this.fd(fd); // advice: allowed to be ignored
  }
  private fd_allocate(fd: number, offset: bigint, len: bigint): void {
    const f = this.fd(fd);
    if (f.kind !== 'file' || !f.writable) throw new WasiError(Errno.BADF);
    const end = Number(offset + len);
    if (end > f.file.size()) f.file.truncate(end);
  }
  private fd_sync(fd: number): void {
    const f = this.fd(fd);
    if (f.kind === 'file') f.file.sync(false);
  }
  private fd_datasync(fd: number): void {
    const f = this.fd(fd);
    if (f.kind === 'file') f.file.sync(true);
  }

  private fd_close(fd: number): void {
    const f = this.fd(fd);
    if (f.kind === 'dir' && f.preopen !== undefined) throw new WasiError(Errno.NOTSUP);
    this.fds.delete(fd);
    if (f.kind === 'file') f.file.close();
    else if (f.kind === 'dir') closeReading(f);
  }
  private fd_renumber(from: number, to: number): void {
    const f = this.fd(from);
    const old = this.fd(to);
    if (old.kind === 'dir' && old.preopen !== undefined) throw new WasiError(Errno.NOTSUP);
    if (old.kind === 'file' && old !== f) old.file.close();
    if (old.kind === 'dir' && old !== f) closeReading(old);
    this.fds.set(to, f);
    this.fds.delete(from);
  }

  private fd_write(fd: number, iovs: number, count: number, nPtr: number): void {
    const f = this.fd(fd);
    let n = 0;
    if (f.kind === 'stdio') {
      if (f.fd === 0) throw new WasiError(Errno.BADF);
      const sink = f.fd === 1 ? this.stdout : this.stderr;
      for (const buf of this.iovecs(iovs, count)) {
        if (buf.length) sink(buf.slice());
        n += buf.length;
      }
    } else if (f.kind === 'file') {
      if (!f.writable) throw new WasiError(Errno.BADF);
      if (f.append) f.pos = f.file.size();
      for (const buf of this.iovecs(iovs, count)) {
        f.pos += f.file.write(buf, f.pos);
        n += buf.length;
      }
      if (f.syncWrites) f.file.sync(true);
    } else throw new WasiError(Errno.ISDIR);
    this.view().setUint32(nPtr, n, true);
  }
  private fd_pwrite(fd: number, iovs: number, count: number, offset: bigint, nPtr: number): void {
    const f = this.fileFd(fd);
    if (!f.writable) throw new WasiError(Errno.BADF);
    let at = Number(offset);
    let n = 0;
    for (const buf of this.iovecs(iovs, count)) {
      at += f.file.write(buf, at);
      n += buf.length;
    }
    if (f.syncWrites) f.file.sync(true);
    this.view().setUint32(nPtr, n, true);
  }

  private fd_read(fd: number, iovs: number, count: number, nPtr: number): void {
    const f = this.fd(fd);
    let n = 0;
    if (f.kind === 'file') {
      n = this.readInto(f.file, f.pos, iovs, count);
      f.pos += n;
    } else if (f.kind === 'dir') throw new WasiError(Errno.ISDIR);
    else if (f.fd !== 0) throw new WasiError(Errno.BADF);
    // stdin is always at end of file: cells get their input as code, not on stdin.
    this.view().setUint32(nPtr, n, true);
  }
  private fd_pread(fd: number, iovs: number, count: number, offset: bigint, nPtr: number): void {
    const f = this.fileFd(fd);
    this.view().setUint32(nPtr, this.readInto(f.file, Number(offset), iovs, count), true);
  }
  private readInto(file: OpenedFile, pos: number, iovs: number, count: number): number {
    let n = 0;
    for (const buf of this.iovecs(iovs, count)) {
      const got = file.read(buf, pos + n);
      n += got;
      if (got < buf.length) break;
    }
    return n;
  }

  private fd_seek(fd: number, offset: bigint, whence: number, newPtr: number): void {
    const f = this.fileFd(fd);
    const base = whence === Whence.SET ? 0 : whence === Whence.CUR ? f.pos : whence === Whence.END ? f.file.size() : NaN;
    const pos = base + Number(offset);
    if (!Number.isFinite(pos) || pos < 0) throw new WasiError(Errno.INVAL);
    f.pos = pos;
    this.view().setBigUint64(newPtr, BigInt(pos), true);
  }
  private fd_tell(fd: number, ptr: number): void {
    const f = this.fd(fd);
    if (f.kind !== 'file') throw new WasiError(Errno.SPIPE);
    this.view().setBigUint64(ptr, BigInt(f.pos), true);
  }

  private fd_readdir(fd: number, buf: number, len: number, cookie: bigint, usedPtr: number): void {
    const dir = this.fd(fd);
    if (dir.kind !== 'dir') throw new WasiError(Errno.NOTDIR);
    // A cookie is an entry's index. The folder is read as the guest asks, from a cursor
    // kept on the descriptor: nothing is copied but the entry a full buffer cut off
    // (wasi-libc asks for it again). An earlier cookie (rewinddir, seekdir) starts over.
    const from = cookie > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(cookie);
    let r = dir.reading;
    if (!r || from < r.at) {
      closeReading(dir);
      r = dir.reading = { cursor: this.listing(dir), at: 0, held: [], ended: false };
    }
    const pull = (reading: DirReading): DirEntry | undefined => {
      if (reading.ended) return undefined;
      const e = reading.cursor.next();
      if (!e) {
        reading.ended = true;
        reading.cursor.close(); // a folder read to its end holds nothing on the host
        return undefined;
      }
      reading.held.push(e);
      return e;
    };
    while (r.at < from && (r.held.length || pull(r))) {
      r.held.shift();
      r.at++;
    }
    let used = 0;
    let whole = 0;
    for (let i = 0; used < len; i++) {
      const e = r.held[i] ?? pull(r);
      if (!e) break;
      const nameBytes = encoder.encode(e.name);
      const entry = new Uint8Array(24 + nameBytes.length);
      const header = new DataView(entry.buffer);
      header.setBigUint64(0, BigInt(r.at + i + 1), true);
      header.setBigUint64(8, e.ino, true);
      header.setUint32(16, nameBytes.length, true);
      header.setUint8(20, e.kind === 'dir' ? FileType.DIRECTORY : FileType.REGULAR_FILE);
      entry.set(nameBytes, 24);
      // A truncated last entry tells wasi-libc to retry with a bigger buffer.
      const take = Math.min(entry.length, len - used);
      this.bytes(buf + used, take).set(entry.subarray(0, take));
      used += take;
      if (take === entry.length) whole++;
    }
    // What the guest got whole it asks for again only by starting over.
    r.held.splice(0, whole);
    r.at += whole;
    this.view().setUint32(usedPtr, used, true);
  }

  /** The entries of a folder descriptor: "." and "..", then the mount's own. */
  private listing(dir: Extract<OpenFile, { kind: 'dir' }>): DirCursor {
    const self = dir.mount.stat(dir.parts).ino;
    const parent = dir.parts.length ? dir.mount.stat(dir.parts.slice(0, -1)).ino : self;
    const dots: DirEntry[] = [
      { name: '.', kind: 'dir', ino: self },
      { name: '..', kind: 'dir', ino: parent },
    ];
    const rest = dir.mount.openDir(dir.parts);
    return { next: () => dots.shift() ?? rest.next(), close: () => rest.close() };
  }

  private path_open(
    fd: number,
    _dirflags: number,
    pathPtr: number,
    pathLen: number,
    oflags: number,
    rightsBase: bigint,
    _rightsInheriting: bigint,
    fdflags: number,
    fdPtr: number,
  ): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    const write = (rightsBase & WRITE_RIGHTS) !== 0n || (oflags & OFlags.TRUNC) !== 0;
    const opened = mount.open(parts, {
      create: (oflags & OFlags.CREAT) !== 0,
      excl: (oflags & OFlags.EXCL) !== 0,
      trunc: (oflags & OFlags.TRUNC) !== 0,
      directory: (oflags & OFlags.DIRECTORY) !== 0,
      read: (rightsBase & Rights.FD_READ) !== 0n,
      write,
    });
    const file: OpenFile =
      opened === 'dir'
        ? { kind: 'dir', mount, parts }
        : { kind: 'file', file: opened, pos: 0, append: (fdflags & FdFlags.APPEND) !== 0, writable: write, syncWrites: (fdflags & SYNC_FLAGS) !== 0, mount, parts };
    this.view().setUint32(fdPtr, this.allocFd(file), true);
  }

  private path_filestat_get(fd: number, _flags: number, pathPtr: number, pathLen: number, ptr: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    this.writeFilestat(ptr, mount.stat(parts));
  }
  private path_filestat_set_times(fd: number, _flags: number, pathPtr: number, pathLen: number, atim: bigint, mtim: bigint, flags: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    const [a, m] = timeSpecs(atim, mtim, flags);
    mount.setTimes(parts, a, m);
  }

  private path_create_directory(fd: number, pathPtr: number, pathLen: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    mount.mkdir(parts);
  }

  private path_remove_directory(fd: number, pathPtr: number, pathLen: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    mount.rmdir(parts);
  }

  private path_unlink_file(fd: number, pathPtr: number, pathLen: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    mount.unlink(parts);
  }

  private path_rename(fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): void {
    const from = this.path(fd, oldPtr, oldLen);
    const to = this.path(newFd, newPtr, newLen);
    if (from.mount !== to.mount) throw new WasiError(Errno.XDEV);
    from.mount.rename(from.parts, to.parts);
  }

  // No links of any kind: nothing in the guest's tree may point elsewhere.
  private path_symlink(): void {
    throw new WasiError(Errno.PERM);
  }
  private path_link(): void {
    throw new WasiError(Errno.PERM);
  }
  private path_readlink(fd: number, pathPtr: number, pathLen: number): void {
    const { mount, parts } = this.path(fd, pathPtr, pathLen);
    mount.stat(parts); // NOENT when missing
    throw new WasiError(Errno.INVAL); // exists, and is not a link
  }

  private poll_oneoff(inPtr: number, outPtr: number, count: number, nPtr: number): void {
    const v = this.view();
    let timeoutNs: bigint | undefined;
    const ready: number[] = [];
    for (let i = 0; i < count; i++) {
      const sub = inPtr + i * 48;
      const type = v.getUint8(sub + 8);
      if (type === EventType.CLOCK) {
        const clock = v.getUint32(sub + 16, true);
        let t = v.getBigUint64(sub + 24, true);
        if (v.getUint16(sub + 40, true) & SubClockFlags.ABSTIME) {
          const now = clock === Clock.REALTIME ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint() - this.startNs;
          t = t > now ? t - now : 0n;
        }
        if (timeoutNs === undefined || t < timeoutNs) timeoutNs = t;
      } else {
        ready.push(i); // files and stdio never block
      }
    }
    if (ready.length === 0 && timeoutNs !== undefined && timeoutNs > 0n) {
      // A real sleep that blocks only this guest's thread, without spinning.
      this.sleep(Number(timeoutNs / 1_000_000n));
    }
    const events = ready.length ? ready : Array.from({ length: count }, (_, i) => i);
    events.forEach((i, k) => {
      const sub = inPtr + i * 48;
      const ev = outPtr + k * 32;
      v.setBigUint64(ev, v.getBigUint64(sub, true), true);
      v.setUint16(ev + 8, Errno.SUCCESS, true);
      v.setUint8(ev + 10, v.getUint8(sub + 8));
      v.setBigUint64(ev + 16, 0n, true);
      v.setUint16(ev + 24, 0, true);
    });
    v.setUint32(nPtr, events.length, true);
  }

  /** The `wasi_snapshot_preview1` import object; unknown imports answer ENOSYS. */
  imports(): Record<string, (...args: never[]) => number> {
    const table: Record<string, (...args: never[]) => number | void> = {
      args_get: this.args_get,
      args_sizes_get: this.args_sizes_get,
      environ_get: this.environ_get,
      environ_sizes_get: this.environ_sizes_get,
      clock_res_get: this.clock_res_get,
      clock_time_get: this.clock_time_get,
      random_get: this.random_get,
      proc_exit: this.proc_exit,
      sched_yield: this.sched_yield,
      fd_prestat_get: this.fd_prestat_get,
      fd_prestat_dir_name: this.fd_prestat_dir_name,
      fd_fdstat_get: this.fd_fdstat_get,
      fd_fdstat_set_flags: this.fd_fdstat_set_flags,
      fd_fdstat_set_rights: this.fd_fdstat_set_rights,
      fd_filestat_get: this.fd_filestat_get,
      fd_filestat_set_size: this.fd_filestat_set_size,
      fd_filestat_set_times: this.fd_filestat_set_times,
      fd_advise: this.fd_advise,
      fd_allocate: this.fd_allocate,
      fd_sync: this.fd_sync,
      fd_datasync: this.fd_datasync,
      fd_close: this.fd_close,
      fd_renumber: this.fd_renumber,
      fd_write: this.fd_write,
      fd_pwrite: this.fd_pwrite,
      fd_read: this.fd_read,
      fd_pread: this.fd_pread,
      fd_seek: this.fd_seek,
      fd_tell: this.fd_tell,
      fd_readdir: this.fd_readdir,
      path_open: this.path_open,
      path_filestat_get: this.path_filestat_get,
      path_filestat_set_times: this.path_filestat_set_times,
      path_create_directory: this.path_create_directory,
      path_remove_directory: this.path_remove_directory,
      path_unlink_file: this.path_unlink_file,
      path_rename: this.path_rename,
      path_symlink: this.path_symlink,
      path_link: this.path_link,
      path_readlink: this.path_readlink,
      poll_oneoff: this.poll_oneoff,
    };
    const out: Record<string, (...args: never[]) => number> = {};
    for (const [name, fn] of Object.entries(table)) out[name] = this.guard(fn as (...a: never[]) => number);
    return new Proxy(out, {
      // Sockets and anything else not listed: "not supported", never a host capability.
      get: (target, name: string) => target[name] ?? (() => Errno.NOSYS),
    });
  }
}
