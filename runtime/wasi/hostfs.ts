// A host folder as a mount: the guest's file calls become the host's own, one for one,
// on the session's worker thread. Nothing is copied: a directory is listed when the guest
// lists it, a file read when the guest reads it, and a write is on the host (in the
// kernel) when fd_write returns, so nothing the guest wrote is lost when its worker ends.
//
// Containment does not rest on checking paths and then using them (a folder swapped for
// a link in between would win that race). Every call starts from a descriptor of the
// folder's root and opens one component at a time relative to the descriptor of the one
// before, with O_NOFOLLOW|O_DIRECTORY, through /proc/self/fd/N/<name>: the kernel's
// openat(). A link anywhere, swapped in at any moment, makes the call fail; it is never
// followed. Links and special files (fifos, sockets, devices) do not exist for the guest:
// they are left out of listings and reported missing; a file opened is checked with
// fstat to be a regular file, and opened O_NONBLOCK so a fifo swapped in cannot block.

import {
  closeSync,
  constants as C,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  opendirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type BigIntStats,
} from 'node:fs';
import { Errno } from './constants.js';
import { NODE_COST, type Quota, WasiError, charge } from './memfs.js';
import type { DirCursor, DirEntry, Mount, OpenFlags, OpenedFile, Stat, TimeSpec } from './vfs.js';

/**
 * Host descriptors one mount may hold at once by default: its root, the guest's open files
 * and folders being read, and the few a call's walk holds for a moment. Far below the
 * process's limit, so sessions cannot take each other's descriptors.
 */
export const MAX_HOST_FDS = 256;

/** Folder levels the measuring walk keeps open at once; deeper folders are reopened from the root. */
const MEASURE_HOLD = 16;

export interface HostMountOptions {
  /** Host descriptors the mount may hold (default MAX_HOST_FDS); past it, EMFILE. */
  maxFds?: number;
  /** A descriptor of `dir` opened by the caller (O_DIRECTORY|O_NOFOLLOW); the mount owns it from now on. */
  fd?: number;
}

/** The files a mount has open, by host inode: a removed one is counted until its last close. */
interface OpenInode {
  count: number;
  orphaned: boolean;
}

const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW;

/** The guest's errno for a host error (its `code`); anything unexpected is EIO. */
function errnoOf(err: unknown): number {
  if (err instanceof WasiError) return err.errno;
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return Errno.NOENT;
    case 'EEXIST':
      return Errno.EXIST;
    case 'ENOTDIR':
      return Errno.NOTDIR;
    case 'EISDIR':
      return Errno.ISDIR;
    case 'ENOTEMPTY':
      return Errno.NOTEMPTY;
    case 'EACCES':
      return Errno.ACCES;
    case 'EPERM':
      return Errno.PERM;
    case 'ENOSPC':
    case 'EDQUOT':
      return Errno.NOSPC;
    case 'EINVAL':
      return Errno.INVAL;
    case 'EXDEV':
      return Errno.XDEV;
    case 'EROFS':
      return Errno.ROFS;
    case 'ENAMETOOLONG':
      return Errno.NAMETOOLONG;
    case 'EMFILE':
    case 'ENFILE':
      return Errno.MFILE;
    case 'EFBIG':
      return Errno.FBIG;
    case 'EBADF':
      return Errno.BADF;
    case 'EBUSY':
      return Errno.BUSY;
    case 'ELOOP': // a link where O_NOFOLLOW refused it
      return Errno.LOOP;
    default:
      return Errno.IO;
  }
}

/** Runs a host call; its failure becomes the matching WasiError. */
function host<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new WasiError(errnoOf(err), (err as Error).message);
  }
}

/** Identifies a file across its names (device and inode). */
function inodeKey(st: BigIntStats): string {
  return `${st.dev}:${st.ino}`;
}

function kindOf(st: BigIntStats): 'file' | 'dir' | undefined {
  return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : undefined;
}

function statOf(st: BigIntStats): Stat {
  return {
    dev: 1n, // not memfs's 0: inode numbers of the two kinds of mount never compare equal
    ino: st.ino,
    kind: st.isDirectory() ? 'dir' : 'file',
    nlink: st.nlink,
    size: st.size,
    atimNs: st.atimeNs,
    mtimNs: st.mtimeNs,
    ctimNs: st.ctimeNs,
  };
}

/** Seconds as Node's utimes takes them (a double: about 0.2 us of precision today). */
function seconds(spec: TimeSpec, current: bigint): number {
  if (spec === 'now') return Date.now() / 1000;
  const ns = spec ?? current;
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** A stable, non-zero d_ino for a listing (wasi-libc stats every entry whose d_ino is 0). */
function nameIno(parts: readonly string[], name: string): bigint {
  // Two 32-bit FNV-1a hashes of the path: cheap on a folder of thousands of entries.
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  const path = `${parts.join('/')}/${name}`;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) + 1;
  }
  return (BigInt(h1 >>> 0) << 32n) | BigInt(h2 >>> 0) | 1n;
}

export class HostMount implements Mount {
  readonly readonly = false;
  private rootFd: number;
  private openFds = 0;
  private readonly maxFds: number;
  private readonly openInodes = new Map<string, OpenInode>();

  /**
   * `dir` must be a real path (no links in it), or `options.fd` a descriptor of it; the
   * caller checked it. `quota.used` is set to what the folder holds now (512 per file or
   * folder plus file sizes, host-placed files included) and follows the guest's changes
   * (see README, "The workspace folder").
   */
  constructor(readonly dir: string, private readonly quota: Quota, options: HostMountOptions = {}) {
    this.maxFds = options.maxFds ?? MAX_HOST_FDS;
    if (!Number.isInteger(this.maxFds) || this.maxFds < 4) throw new RangeError(`maxFds must be an integer of at least 4, not ${this.maxFds}`);
    if (options.fd !== undefined) {
      this.rootFd = options.fd;
      this.openFds++;
    } else {
      this.rootFd = this.openFd(dir, DIR_FLAGS);
    }
    try {
      quota.used = this.measure();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * What the folder holds, as the quota counts it: 512 per file or folder plus each file's
   * size. Links and special files, which the guest cannot see, are not counted. Folders
   * are opened as every call opens them (no link followed) and read as a stream.
   */
  private measure(): number {
    let used = 0;
    const deeper: string[][] = [];
    const walk = (dirFd: number, parts: string[], depth: number): void => {
      let dir;
      try {
        dir = host(() => opendirSync(`/proc/self/fd/${dirFd}`));
      } catch (err) {
        if (dirFd === this.rootFd) throw err;
        return; // a folder the host does not let us read: the guest cannot read it either
      }
      try {
        for (let e = dir.readSync(); e; e = dir.readSync()) {
          const st = this.lstatAt(dirFd, e.name);
          if (st?.isFile()) used += NODE_COST + Number(st.size);
          if (!st?.isDirectory()) continue;
          used += NODE_COST;
          const sub = [...parts, e.name];
          if (depth >= MEASURE_HOLD) {
            deeper.push(sub);
            continue;
          }
          let fd: number;
          try {
            fd = this.openFd(this.at(dirFd, e.name), DIR_FLAGS);
          } catch {
            continue; // gone or swapped since the lstat: nothing the guest could see either
          }
          try {
            walk(fd, sub, depth + 1);
          } finally {
            this.closeFd(fd);
          }
        }
      } finally {
        dir.closeSync();
      }
    };
    walk(this.rootFd, [], 0);
    for (let parts = deeper.pop(); parts; parts = deeper.pop()) {
      const at = parts;
      try {
        this.inDir(at, (d) => walk(d, at, 0));
      } catch (err) {
        if (!(err instanceof WasiError)) throw err; // a folder that went away meanwhile
      }
    }
    return used;
  }

  /** Closes the root; the mount answers EBADF from then on. */
  close(): void {
    if (this.rootFd < 0) return;
    this.closeFd(this.rootFd);
    this.rootFd = -1;
  }

  private openFd(path: string, flags: number, mode?: number): number {
    if (this.openFds >= this.maxFds) throw new WasiError(Errno.MFILE, `too many open files in the workspace (at most ${this.maxFds})`);
    const fd = host(() => openSync(path, flags, mode));
    this.openFds++;
    return fd;
  }

  private closeFd(fd: number): void {
    this.openFds--;
    closeSync(fd);
  }

  /** The path of `name` inside the folder open as `dirFd`: the kernel resolves it like openat(). */
  private at(dirFd: number, name: string): string {
    return `/proc/self/fd/${dirFd}/${name}`;
  }

  private lstatAt(dirFd: number, name: string): BigIntStats | undefined {
    return host(() => lstatSync(this.at(dirFd, name), { bigint: true, throwIfNoEntry: false }));
  }

  /** Runs `fn` with a descriptor of the folder `parts`, each component opened without following links. */
  private inDir<T>(parts: readonly string[], fn: (dirFd: number) => T): T {
    if (this.rootFd < 0) throw new WasiError(Errno.BADF, 'the workspace is closed');
    let cur = this.rootFd;
    try {
      for (const part of parts) {
        let next: number;
        try {
          next = this.openFd(this.at(cur, part), DIR_FLAGS);
        } catch (err) {
          // A link or special file in the path is not there for the guest; a file is in the way.
          if (err instanceof WasiError && err.errno === Errno.NOTDIR) {
            const st = this.lstatAt(cur, part);
            throw new WasiError(st?.isFile() ? Errno.NOTDIR : Errno.NOENT);
          }
          throw err;
        }
        if (cur !== this.rootFd) this.closeFd(cur);
        cur = next;
      }
      return fn(cur);
    } finally {
      if (cur !== this.rootFd) this.closeFd(cur);
    }
  }

  /** Runs `fn` in the folder holding the last component; the root itself has none. */
  private inParent<T>(parts: readonly string[], fn: (dirFd: number, name: string) => T): T {
    if (parts.length === 0) throw new WasiError(Errno.INVAL);
    return this.inDir(parts.slice(0, -1), (d) => fn(d, parts[parts.length - 1]!));
  }

  stat(parts: string[]): Stat {
    if (parts.length === 0) return this.inDir([], (d) => statOf(host(() => fstatSync(d, { bigint: true }))));
    return this.inParent(parts, (d, name) => {
      const st = this.lstatAt(d, name);
      if (!st || !kindOf(st)) throw new WasiError(Errno.NOENT);
      return statOf(st);
    });
  }

  open(parts: string[], flags: OpenFlags): OpenedFile | 'dir' {
    if (parts.length === 0) {
      if (flags.write) throw new WasiError(Errno.ISDIR);
      if (flags.create && flags.excl) throw new WasiError(Errno.EXIST);
      this.inDir([], () => {});
      return 'dir';
    }
    return this.inParent(parts, (d, name) => {
      const before = this.lstatAt(d, name);
      if (before?.isDirectory()) {
        if (flags.create && flags.excl) throw new WasiError(Errno.EXIST);
        if (flags.write) throw new WasiError(Errno.ISDIR);
        this.inDir(parts, () => {}); // it must open as a folder now, not only have been one
        return 'dir';
      }
      if (before && !before.isFile()) throw new WasiError(flags.create ? Errno.PERM : Errno.NOENT, 'a link or special file on the host is in the way');
      if (!before && !flags.create) throw new WasiError(Errno.NOENT);
      if (before && flags.create && flags.excl) throw new WasiError(Errno.EXIST);
      if (flags.directory) throw new WasiError(before ? Errno.NOTDIR : Errno.NOENT);
      const access = flags.write ? (flags.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY;
      // O_EXCL when creating: had a file appeared since the lstat, the quota would count it twice.
      const create = before ? 0 : C.O_CREAT | C.O_EXCL;
      if (create) charge(this.quota, NODE_COST);
      let fd: number;
      try {
        fd = this.openFd(this.at(d, name), access | create | C.O_NOFOLLOW | C.O_NONBLOCK, 0o644);
      } catch (err) {
        if (create) charge(this.quota, -NODE_COST);
        // ELOOP: a link was swapped in after the lstat; for the guest it is not there, and
        // creating a file through it is refused.
        if (err instanceof WasiError && err.errno === Errno.LOOP) throw new WasiError(create ? Errno.PERM : Errno.NOENT);
        throw err;
      }
      let st: BigIntStats;
      try {
        st = host(() => fstatSync(fd, { bigint: true }));
        if (!st.isFile()) throw new WasiError(Errno.NOENT); // swapped for a special file
      } catch (err) {
        this.closeFd(fd);
        throw err;
      }
      const key = inodeKey(st);
      const inode = this.openInodes.get(key) ?? { count: 0, orphaned: false };
      inode.count++;
      this.openInodes.set(key, inode);
      const file = new HostFile(fd, this.quota, (n, size) => {
        const orphanSize = inode.count === 1 && inode.orphaned ? size() : 0;
        this.closeFd(n);
        if (--inode.count > 0) return;
        this.openInodes.delete(key);
        if (inode.orphaned) charge(this.quota, -(NODE_COST + orphanSize)); // its last descriptor: the disk space is free now
      });
      try {
        if (flags.trunc) file.truncate(0);
      } catch (err) {
        file.close();
        throw err;
      }
      return file;
    });
  }

  list(parts: string[]): DirEntry[] {
    return this.inDir(parts, (d) => {
      const out: DirEntry[] = [];
      for (const e of host(() => readdirSync(`/proc/self/fd/${d}`, { withFileTypes: true }))) {
        const kind = e.isFile() ? 'file' : e.isDirectory() ? 'dir' : undefined;
        if (kind) out.push({ name: e.name, kind, ino: nameIno(parts, e.name) });
      }
      return out;
    });
  }

  /** Reads the folder from a host descriptor of its own (counted like any other), a few entries at a time. */
  openDir(parts: string[]): DirCursor {
    return this.inDir(parts, (d) => {
      if (this.openFds >= this.maxFds) throw new WasiError(Errno.MFILE, `too many open files in the workspace (at most ${this.maxFds})`);
      const dir = host(() => opendirSync(`/proc/self/fd/${d}`)); // the folder open as d, not a path looked up again
      this.openFds++;
      let open = true;
      const close = () => {
        if (!open) return;
        open = false;
        this.openFds--;
        dir.closeSync();
      };
      return {
        next: () => {
          if (!open) return undefined;
          for (;;) {
            const e = host(() => dir.readSync());
            if (!e) return undefined;
            const kind = e.isFile() ? 'file' : e.isDirectory() ? 'dir' : undefined;
            if (kind) return { name: e.name, kind, ino: nameIno(parts, e.name) };
          }
        },
        close,
      };
    });
  }

  /** A name was removed: its bytes are free now, or when the guest's last descriptor of it closes. */
  private removed(st: BigIntStats): void {
    const inode = st.isFile() ? this.openInodes.get(inodeKey(st)) : undefined;
    if (inode) inode.orphaned = true;
    else charge(this.quota, -(NODE_COST + (st.isFile() ? Number(st.size) : 0)));
  }

  mkdir(parts: string[]): void {
    if (parts.length === 0) throw new WasiError(Errno.EXIST);
    this.inParent(parts, (d, name) => {
      charge(this.quota, NODE_COST);
      try {
        host(() => mkdirSync(this.at(d, name), 0o755)); // mkdir never follows a link
      } catch (err) {
        charge(this.quota, -NODE_COST);
        throw err;
      }
    });
  }

  rmdir(parts: string[]): void {
    if (parts.length === 0) throw new WasiError(Errno.PERM);
    this.inParent(parts, (d, name) => {
      const st = this.lstatAt(d, name);
      if (!st || !kindOf(st)) throw new WasiError(Errno.NOENT);
      host(() => rmdirSync(this.at(d, name))); // refuses a link (ENOTDIR): never removes its target
      charge(this.quota, -NODE_COST);
    });
  }

  unlink(parts: string[]): void {
    if (parts.length === 0) throw new WasiError(Errno.ISDIR);
    this.inParent(parts, (d, name) => {
      const st = this.lstatAt(d, name);
      if (!st || !kindOf(st)) throw new WasiError(Errno.NOENT);
      if (st.isDirectory()) throw new WasiError(Errno.ISDIR);
      host(() => unlinkSync(this.at(d, name))); // removes a name, never what a link points to
      this.removed(st);
    });
  }

  rename(from: string[], to: string[]): void {
    if (from.length === 0 || to.length === 0) throw new WasiError(Errno.INVAL);
    this.inParent(from, (a, x) =>
      this.inParent(to, (b, y) => {
        const src = this.lstatAt(a, x);
        if (!src || !kindOf(src)) throw new WasiError(Errno.NOENT);
        const dst = this.lstatAt(b, y);
        if (dst && !kindOf(dst)) throw new WasiError(Errno.PERM, 'a link or special file on the host is in the way');
        host(() => renameSync(this.at(a, x), this.at(b, y))); // renames names: links are never followed
        if (dst && dst.ino !== src.ino) this.removed(dst);
      }),
    );
  }

  setTimes(parts: string[], atim: TimeSpec, mtim: TimeSpec): void {
    if (parts.length === 0) {
      this.inDir([], (d) => {
        const st = host(() => fstatSync(d, { bigint: true }));
        host(() => futimesSync(d, seconds(atim, st.atimeNs), seconds(mtim, st.mtimeNs)));
      });
      return;
    }
    this.inParent(parts, (d, name) => {
      const st = this.lstatAt(d, name);
      if (!st || !kindOf(st)) throw new WasiError(Errno.NOENT);
      host(() => lutimesSync(this.at(d, name), seconds(atim, st.atimeNs), seconds(mtim, st.mtimeNs)));
    });
  }
}

/** A regular file of the folder, open on the host; reads and writes go straight to it. */
class HostFile implements OpenedFile {
  private closed = false;

  constructor(
    private readonly fd: number,
    private readonly quota: Quota,
    /** Closes the descriptor; `size()` reads the file's size before that. */
    private readonly release: (fd: number, size: () => number) => void,
  ) {}

  private hostStat(): BigIntStats {
    return host(() => fstatSync(this.fd, { bigint: true }));
  }

  read(dst: Uint8Array, pos: number): number {
    return host(() => readSync(this.fd, dst, 0, dst.length, pos));
  }

  write(src: Uint8Array, pos: number): number {
    const size = Number(this.hostStat().size);
    const end = pos + src.length;
    if (end > size) charge(this.quota, end - size); // before the write: past the quota nothing is written
    let done = 0;
    try {
      while (done < src.length) done += host(() => writeSync(this.fd, src, done, src.length - done, pos + done));
    } catch (err) {
      if (end > size) charge(this.quota, -(end - Math.max(size, pos + done)));
      throw err;
    }
    return done;
  }

  size(): number {
    return Number(this.hostStat().size);
  }

  stat(): Stat {
    return statOf(this.hostStat());
  }

  truncate(size: number): void {
    const old = Number(this.hostStat().size);
    charge(this.quota, size - old);
    try {
      host(() => ftruncateSync(this.fd, size));
    } catch (err) {
      charge(this.quota, old - size);
      throw err;
    }
  }

  setTimes(atim: TimeSpec, mtim: TimeSpec): void {
    const st = this.hostStat();
    host(() => futimesSync(this.fd, seconds(atim, st.atimeNs), seconds(mtim, st.mtimeNs)));
  }

  sync(dataOnly: boolean): void {
    host(() => (dataOnly ? fdatasyncSync(this.fd) : fsyncSync(this.fd)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release(this.fd, () => {
      try {
        return Number(this.hostStat().size);
      } catch {
        return 0; // unreadable now: nothing more to give back than its name
      }
    });
  }
}
