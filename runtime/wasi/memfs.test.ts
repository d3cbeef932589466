import { describe, expect, it } from 'vitest';
import { Errno } from './constants.js';
import { MemMount, WasiError, makeDir, makeFile, readonlyTree, truncate, writeAt } from './memfs.js';
import { resolvePath } from './vfs.js';

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
