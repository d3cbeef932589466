import { describe, expect, it } from 'vitest';
import { Errno } from './constants.js';
import { WasiError, makeDir, makeFile, readonlyTree, resolve, truncate, writeAt } from './memfs.js';

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

  it('finds nested files and the directory itself', () => {
    expect(resolve(root, 'a/b/c.txt').node?.kind).toBe('file');
    expect(resolve(root, './a/./b/../b/c.txt').node?.kind).toBe('file');
    expect(resolve(root, '.').node).toBe(root);
    expect(resolve(root, 'a/..').node).toBe(root);
  });

  it('refuses to leave the mount by .. or an absolute path', () => {
    expect(errnoOf(() => resolve(root, '..'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolve(root, 'a/../../x'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolve(root, 'a/b/../../../top.txt'))).toBe(Errno.NOTCAPABLE);
    expect(errnoOf(() => resolve(root, '/etc/passwd'))).toBe(Errno.NOTCAPABLE);
  });

  it('reports missing and non-directory components', () => {
    expect(resolve(root, 'nope').node).toBeUndefined();
    expect(errnoOf(() => resolve(root, 'nope/x'))).toBe(Errno.NOENT);
    expect(errnoOf(() => resolve(root, 'top.txt/x'))).toBe(Errno.NOTDIR);
    expect(errnoOf(() => resolve(root, 'a\0b'))).toBe(Errno.INVAL);
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
