import { describe, expect, it } from 'vitest';
import { Errno } from './constants.js';
import { MemMount, NODE_COST, type Quota, WasiError, applyQuota, makeDir, makeFile, nameCost, readonlyTree, truncate, writeAt } from './memfs.js';
import { type OpenFlags, type OpenedFile, resolvePath } from './vfs.js';

const errnoOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as WasiError).errno;
  }
  return undefined;
};

describe('memfs path resolution', () => {
  const root = readonlyTree({ 'a/b/c.txt': new Uint8Array([1]), 'top.txt': new Uint8Array([2]) });
  const mount = new MemMount(root);
  const kind = (path: string) => mount.stat(resolvePath([], path)).kind;

  it('finds nested files and the directory itself', () => {
    expect(kind('a/b/c.txt')).toBe('file');
    expect(kind('./a/./b/../b/c.txt')).toBe('file');
    expect(resolvePath([], '.')).toEqual([]);
    expect(resolvePath(['a'], '..')).toEqual([]);
    expect(kind('a/..')).toBe('dir');
  });

  it('refuses to leave the mount by .. or an absolute path', () => {
    expect(errnoOf(() => resolvePath([], '..'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath([], 'a/../../x'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath(['a'], 'b/../../../top.txt'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolvePath([], '/etc/passwd'))).toBe(Errno.NOTCAPABLE);
  });

  it('reports missing and non-directory components', () => {
    expect(errnoOf(() => kind('nope'))).toBe(Errno.NOENT);
    expect(errnoOf(() => kind('nope/x'))).toBe(Errno.NOENT);
    expect(errnoOf(() => kind('top.txt/x'))).toBe(Errno.NOTDIR);
    expect(errnoOf(() => resolvePath([], 'a\0b'))).toBe(Errno.INVAL);
  });
});

describe('memfs files', () => {
  it('grows on write past the end and zero-fills gaps', () => {
    const f = makeFile(new Uint8Array(0), false);
    writeAt(f, new Uint8Array([1, 2]), 3);
    expect(Array.from(f.data.subarray(0, f.size))).toEqual([0, 0, 0, 1, 2]);
    truncate(f, 2);
    expect(f.size).toBe(2);
    truncate(f, 4);
    expect(Array.from(f.data.subarray(0, f.size))).toEqual([0, 0, 0, 0]);
  });

  it('refuses writes to read-only files', () => {
    const f = makeFile(new Uint8Array([1]), true);
    expect(errnoOf(() => writeAt(f, new Uint8Array([9]), 0))).toBe(Errno.ROFS);
    expect(errnoOf(() => truncate(f, 0))).toBe(Errno.ROFS);
    expect(f.data[0]).toBe(1);
  });

  it('gives each mount root no parent', () => {
    expect(makeDir(false).parent).toBeNull();
  });
});

const CREATE: OpenFlags = { create: true, excl: false, trunc: false, directory: false, read: true, write: true };
const MB = 1024 * 1024;

/** A writable in-memory mount under a quota of `limit` bytes, as a session's workspace. */
function workspace(limit: number) {
  const root = makeDir(false);
  const quota: Quota = { limit, used: 0 };
  applyQuota(root, quota);
  const mount = new MemMount(root);
  const open = (name: string) => {
    const f = mount.open([name], CREATE);
    if (f === 'dir') throw new Error('a folder');
    return f;
  };
  /** Bytes the host holds for the tree's files: what the quota must cover. */
  const held = () => {
    let n = 0;
    const walk = (d: typeof root) => d.entries.forEach((e) => (e.kind === 'file' ? (n += e.data.length) : walk(e)));
    walk(root);
    return n;
  };
  return { root, quota, mount, open, held };
}

const fill = (f: OpenedFile, bytes: number, chunk = 64 * 1024) => {
  for (let at = 0; at < bytes; at += chunk) f.write(new Uint8Array(Math.min(chunk, bytes - at)).fill(7), at);
};

describe('memfs workspace quota: every byte the host holds counts', () => {
  it('frees the buffer when a file is truncated, so truncating and rewriting cannot grow the host', () => {
    const { quota, open, held } = workspace(10 * MB);
    const f = open('big');
    for (let round = 0; round < 20; round++) {
      fill(f, 9 * MB);
      f.truncate(0);
      expect(held()).toBe(0);
    }
    expect(quota.used).toBe(NODE_COST);
    fill(f, 2 * MB);
    f.truncate(1000);
    expect(held()).toBe(1000);
    expect(quota.used).toBe(NODE_COST + 1000);
  });

  it('keeps counting a file removed while open until its last descriptor closes', () => {
    const { quota, mount, open } = workspace(10 * MB);
    const kept: OpenedFile[] = [];
    // The attack: write, keep open, delete, again. Without the count this grew without bound.
    const attempt = () => {
      for (let i = 0; i < 100; i++) {
        const f = open(`f${i}`);
        kept.push(f);
        if (i % 2) mount.unlink([`f${i}`]); // deleted, then written: counted too
        fill(f, 3 * MB);
        if (i % 2 === 0) mount.unlink([`f${i}`]);
      }
    };
    expect(errnoOf(attempt)).toBe(Errno.NOSPC);
    expect(kept.length).toBeLessThanOrEqual(4);
    expect(quota.used).toBeLessThanOrEqual(10 * MB);
    const second = mount.open(['f0'], CREATE); // a new file of that name: the old one is still open
    expect(second).not.toBe('dir');
    for (const f of kept) f.close();
    (second as OpenedFile).close();
    mount.unlink(['f0']);
    expect(quota.used).toBe(0);
    // Closing twice gives nothing back twice.
    kept[0]!.close();
    expect(quota.used).toBe(0);
  });

  it('keeps counting a file replaced by a rename while open', () => {
    const { quota, mount, open, held } = workspace(4 * MB);
    const old = open('data');
    fill(old, 3 * MB);
    const fresh = open('data.new');
    mount.rename(['data.new'], ['data']);
    expect(errnoOf(() => fill(fresh, 2 * MB))).toBe(Errno.NOSPC); // the replaced 3 MB are still held
    old.close();
    fill(fresh, 2 * MB);
    fresh.close();
    expect(held()).toBeGreaterThanOrEqual(2 * MB); // its buffer, with room to grow: counted too
    expect(quota.used).toBe(NODE_COST + held());
  });

  it('lets the room files keep to grow into count, and gives it back before refusing a write', () => {
    const limit = 4 * MB;
    const { quota, open, held } = workspace(limit);
    const a = open('a');
    fill(a, MB + 1, 4096); // grows by doubling: its buffer is bigger than the file
    const b = open('b');
    // Everything the quota has left fits in b, whatever room a holds.
    const room = limit - 2 * NODE_COST - (MB + 1);
    fill(b, room, 4096);
    expect(b.size()).toBe(room);
    expect(errnoOf(() => b.write(new Uint8Array(1), room))).toBe(Errno.NOSPC);
    expect(held()).toBeLessThanOrEqual(limit);
    expect(quota.used).toBe(limit);
  });
});

describe('memfs names are counted', () => {
  it('charges long names, so a tree of 4,000-character names cannot hold the host past the quota', () => {
    const { quota, mount, open } = workspace(MB);
    const long = (i: number) => `${i}`.padEnd(4000, 'n');
    let n = 0;
    expect(
      errnoOf(() => {
        for (;; n++) open(long(n)).close();
      }),
    ).toBe(Errno.NOSPC);
    expect(n).toBe(Math.floor(MB / (NODE_COST + nameCost(long(0)))));
    expect(quota.used).toBeLessThanOrEqual(MB);
    mount.rename([long(0)], ['short']); // a shorter name gives back the difference
    mount.mkdir(['d']);
    expect(errnoOf(() => mount.rename(['short'], ['d', long(0)]))).toBe(Errno.NOSPC); // and a longer one costs it
    mount.unlink([long(1)]);
    mount.rename(['short'], ['d', long(0)]);
    mount.unlink(['d', long(0)]);
    mount.rmdir(['d']);
    for (let i = 2; i < n; i++) mount.unlink([long(i)]);
    expect(quota.used).toBe(0);
    expect(nameCost('x'.repeat(128))).toBe(0);
  });
});

describe('memfs folders are read, not copied', () => {
  it('lists a folder through a cursor that sees the folder as it is read', () => {
    const { mount, open } = workspace(Number.POSITIVE_INFINITY);
    open('a').close();
    const cursor = mount.openDir([]);
    expect(cursor.next()?.name).toBe('a');
    open('b').close(); // created after the listing began: a copy would miss it
    expect(cursor.next()?.name).toBe('b');
    expect(cursor.next()).toBeUndefined();
    expect(errnoOf(() => mount.openDir(['a']))).toBe(Errno.NOTDIR);
  });
});
