// The WASI host on its own, called as the guest's C library calls it: descriptors per
// guest, folders read without copying their listings, and rights that tell the truth.
import { describe, expect, it } from 'vitest';
import { Errno, OFlags, Rights } from './constants.js';
import { type Quota, applyQuota, makeDir, makeFile, readonlyTree } from './memfs.js';
import { DEFAULT_MAX_FDS, WasiPreview1 } from './preview1.js';

const PATH = 1024;
const OUT = 2048;
const BUF = 65536;

function host(options: { files?: number; maxFds?: number } = {}) {
  const workspace = makeDir(false);
  const quota: Quota = { limit: Number.POSITIVE_INFINITY, used: 0 };
  const big = makeDir(false, workspace);
  workspace.entries.set('big', big);
  for (let i = 0; i < (options.files ?? 0); i++) big.entries.set(`file-${i}`, makeFile(new Uint8Array(0), false));
  applyQuota(workspace, quota);
  const wasi = new WasiPreview1({
    preopens: [
      { guestPath: '/lib', root: readonlyTree({ 'python311.zip': new Uint8Array([1]) }) },
      { guestPath: '/workspace', root: workspace },
    ],
    ...(options.maxFds !== undefined ? { maxFds: options.maxFds } : {}),
  });
  const memory = new WebAssembly.Memory({ initial: 4 });
  wasi.bind(memory);
  const calls = wasi.imports() as unknown as Record<string, (...args: (number | bigint)[]) => number>;
  const view = () => new DataView(memory.buffer);
  const open = (dirFd: number, path: string, oflags = 0, rights = Rights.FD_READ): number | { errno: number } => {
    const bytes = new TextEncoder().encode(path);
    new Uint8Array(memory.buffer, PATH, bytes.length).set(bytes);
    const errno = calls.path_open!(dirFd, 0, PATH, bytes.length, oflags, rights, rights, 0, OUT);
    return errno === Errno.SUCCESS ? view().getUint32(OUT, true) : { errno };
  };
  const readdir = (fd: number, len: number, cookie: bigint) => {
    const errno = calls.fd_readdir!(fd, BUF, len, cookie, OUT);
    expect(errno).toBe(Errno.SUCCESS);
    return view().getUint32(OUT, true);
  };
  return { wasi, calls, memory, view, open, readdir, workspace };
}

/** Reads a folder as wasi-libc's readdir does: refills from the last whole entry, grows the buffer when one entry does not fit. */
function listAll(h: ReturnType<typeof host>, fd: number, startLen: number): string[] {
  const names: string[] = [];
  let cookie = 0n;
  let len = startLen;
  for (;;) {
    const used = h.readdir(fd, len, cookie);
    const v = h.view();
    let at = 0;
    let whole = 0;
    while (at + 24 <= used) {
      const nameLen = v.getUint32(BUF + at + 16, true);
      if (at + 24 + nameLen > used) break; // cut off: asked for again
      names.push(new TextDecoder().decode(new Uint8Array(h.memory.buffer, BUF + at + 24, nameLen)));
      cookie = v.getBigUint64(BUF + at, true);
      at += 24 + nameLen;
      whole++;
    }
    if (used < len && at === used) return names; // the end of the folder
    if (whole === 0) len *= 2;
  }
}

describe('guest descriptors', () => {
  it(`are capped per guest (${DEFAULT_MAX_FDS} by default, stdio and mounts included): EMFILE past it`, () => {
    const h = host();
    const fds: number[] = [];
    for (;;) {
      const fd = h.open(4, `f${fds.length}`, OFlags.CREAT, Rights.FD_READ | Rights.FD_WRITE);
      if (typeof fd !== 'number') {
        expect(fd.errno).toBe(Errno.MFILE);
        break;
      }
      fds.push(fd);
    }
    expect(fds.length).toBe(DEFAULT_MAX_FDS - 5); // 0-2 stdio, 3 /lib, 4 /workspace
    expect(h.open(4, 'big', OFlags.DIRECTORY)).toEqual({ errno: Errno.MFILE }); // folders too
    expect(h.calls.fd_close!(fds.pop()!)).toBe(Errno.SUCCESS);
    expect(typeof h.open(4, 'again', OFlags.CREAT)).toBe('number');
  });

  it('takes a smaller cap, and refuses a nonsensical one', () => {
    const h = host({ maxFds: 10 });
    let n = 0;
    while (typeof h.open(4, 'big', OFlags.DIRECTORY) === 'number') n++;
    expect(n).toBe(5);
    expect(() => h.wasi.setMaxFds(0)).toThrow(/maxFds must be an integer of at least 8/);
    expect(() => new WasiPreview1({ preopens: [], maxFds: 1.5 })).toThrow(/maxFds/);
  });
});

describe('fd_readdir', () => {
  it('lists every entry once, through buffers too small for some entries, and again after a rewind', () => {
    const h = host({ files: 300 });
    const fd = h.open(4, 'big', OFlags.DIRECTORY) as number;
    const expected = ['.', '..', ...Array.from({ length: 300 }, (_, i) => `file-${i}`)];
    expect(listAll(h, fd, 50)).toEqual(expected);
    expect(listAll(h, fd, 4096)).toEqual(expected); // cookie 0 again: from the start
    // A cookie from the middle (seekdir) starts over and skips there.
    const used = h.readdir(fd, 24 + 'file-0'.length, 5n);
    expect(new TextDecoder().decode(new Uint8Array(h.memory.buffer, BUF + 24, used - 24))).toBe('file-3');
  });

  it('holds no copy of the listing per descriptor: 200 half-read folders of 20,000 entries cost the host little', () => {
    const h = host({ files: 20_000 });
    const before = process.memoryUsage().heapUsed;
    const fds: number[] = [];
    for (let i = 0; i < 200; i++) {
      const fd = h.open(4, 'big', OFlags.DIRECTORY) as number;
      expect(h.readdir(fd, 4096, 0n)).toBe(4096);
      fds.push(fd);
    }
    // A listing copied per descriptor was 200 x 20,000 entries here (hundreds of MB).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(40 * 1024 * 1024);
    for (const fd of fds) expect(h.calls.fd_close!(fd)).toBe(Errno.SUCCESS);
  });
});

describe('rights', () => {
  it('a read-only mount passes on no right to write (os.access W_OK is False there); the workspace does', () => {
    const h = host();
    const inheriting = (fd: number) => {
      expect(h.calls.fd_fdstat_get!(fd, OUT)).toBe(Errno.SUCCESS);
      return h.view().getBigUint64(OUT + 16, true);
    };
    expect(inheriting(3) & Rights.FD_WRITE).toBe(0n);
    expect(inheriting(4) & Rights.FD_WRITE).toBe(Rights.FD_WRITE);
    const lib = h.open(3, '.', OFlags.DIRECTORY) as number;
    expect(inheriting(lib) & Rights.FD_WRITE).toBe(0n);
    // What wasi-libc asks for O_RDWR under /lib (its write rights less FD_WRITE) is refused at open.
    const rdwr = (Rights.FD_READ | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE) & inheriting(3);
    expect(h.open(3, 'python311.zip', 0, rdwr)).toEqual({ errno: Errno.ROFS });
    expect(h.open(3, 'x', OFlags.CREAT, Rights.FD_WRITE)).toEqual({ errno: Errno.ROFS });
  });
});
