// The host-folder mount on its own (no guest): what it shows, what it refuses, what the
// quota counts, and that no descriptor outlives it.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Errno } from './constants.js';
import { HostMount, MAX_HOST_FDS } from './hostfs.js';
import { type Quota, WasiError } from './memfs.js';
import type { DirCursor, OpenFlags, OpenedFile } from './vfs.js';

const READ: OpenFlags = { create: false, excl: false, trunc: false, directory: false, read: true, write: false };
const WRITE: OpenFlags = { create: true, excl: false, trunc: true, directory: false, read: false, write: true };

const errnoOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof WasiError) return e.errno;
    throw e;
  }
  return undefined;
};

function setup(limit = Number.POSITIVE_INFINITY) {
  const root = mkdtempSync(join(tmpdir(), 'tic-hostfs-'));
  const dir = join(root, 'ws');
  const outside = join(root, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'SECRET');
  const quota: Quota = { limit, used: 0 };
  const mount = new HostMount(dir, quota);
  return { root, dir, outside, quota, mount };
}

const file = (o: OpenedFile | 'dir') => {
  if (o === 'dir') throw new Error('a folder');
  return o;
};
const text = (f: OpenedFile) => {
  const buf = new Uint8Array(f.size());
  f.read(buf, 0);
  return new TextDecoder().decode(buf);
};

describe('host folder mount', () => {
  it('reads and writes the host folder directly, and lists it', () => {
    const { dir, mount } = setup();
    writeFileSync(join(dir, 'in.txt'), 'from host');
    expect(text(file(mount.open(['in.txt'], READ)))).toBe('from host');
    mount.mkdir(['out']);
    const f = file(mount.open(['out', 'a.txt'], WRITE));
    f.write(new TextEncoder().encode('written'), 0);
    expect(readFileSync(join(dir, 'out', 'a.txt'), 'utf8')).toBe('written'); // before close
    f.close();
    expect(mount.list([]).map((e) => `${e.name}:${e.kind}`).sort()).toEqual(['in.txt:file', 'out:dir']);
    mount.rename(['out', 'a.txt'], ['b.txt']);
    mount.unlink(['in.txt']);
    mount.rmdir(['out']);
    expect(readdirSync(dir)).toEqual(['b.txt']);
    mount.close();
  });

  it('shows no links or special files, and never follows a link', () => {
    const { dir, outside, mount } = setup();
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'));
    symlinkSync(outside, join(dir, 'linkdir'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(mount.list([])).toEqual([]);
    expect(errnoOf(() => mount.open(['link.txt'], READ))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.open(['fifo'], READ))).toBe(Errno.NOENT); // and did not block
    expect(errnoOf(() => mount.stat(['linkdir']))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.open(['linkdir', 'secret.txt'], READ))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.list(['linkdir']))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.open(['link.txt'], WRITE))).toBe(Errno.PERM);
    expect(errnoOf(() => mount.open(['linkdir', 'new.txt'], WRITE))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.mkdir(['linkdir', 'sub']))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.unlink(['link.txt']))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.rename(['linkdir'], ['moved']))).toBe(Errno.NOENT);
    expect(errnoOf(() => mount.setTimes(['link.txt'], 0n, 0n))).toBe(Errno.NOENT);
    expect(readdirSync(outside)).toEqual(['secret.txt']);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('SECRET');
    expect(statSync(join(outside, 'secret.txt')).mtimeMs).toBeGreaterThan(0);
    expect(lstatSync(join(dir, 'link.txt')).isSymbolicLink()).toBe(true);
  });

  it('counts what the folder holds: files the host put there, and what the session adds', () => {
    const root = mkdtempSync(join(tmpdir(), 'tic-hostfs-'));
    const dir = join(root, 'ws');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'big.bin'), Buffer.alloc(100_000)); // there before: counted
    writeFileSync(join(dir, 'sub', 'x'), 'abc');
    symlinkSync('/etc/passwd', join(dir, 'link')); // invisible to the guest: not counted
    const quota: Quota = { limit: 100_000 + 3 * 512 + 3 + 2048, used: 0 };
    const mount = new HostMount(dir, quota);
    const before = 100_000 + 3 * 512 + 3;
    expect(quota.used).toBe(before);
    const f = file(mount.open(['a'], WRITE));
    expect(quota.used).toBe(before + 512);
    f.write(new Uint8Array(1000), 0);
    expect(quota.used).toBe(before + 1512);
    expect(errnoOf(() => f.write(new Uint8Array(1000), 1000))).toBe(Errno.NOSPC);
    expect(statSync(join(dir, 'a')).size).toBe(1000); // nothing of the refused write
    f.write(new Uint8Array(10), 0); // overwriting adds nothing
    expect(quota.used).toBe(before + 1512);
    f.close();
    mount.unlink(['big.bin']); // freeing space on the host makes room
    expect(quota.used).toBe(before + 1512 - 100_512);
    mount.close();
  });

  it('keeps counting files removed or replaced while open until their last descriptor closes', () => {
    const { dir, quota, mount } = setup(1024 * 1024);
    const held: OpenedFile[] = [];
    // The attack: write most of the quota, keep the file open, delete it, again and again.
    const attack = () => {
      for (let i = 0; i < 40; i++) {
        const f = file(mount.open([`f${i}`], WRITE));
        held.push(f);
        f.write(new Uint8Array(400_000), 0);
        mount.unlink([`f${i}`]);
      }
    };
    expect(errnoOf(attack)).toBe(Errno.NOSPC);
    expect(held.length).toBe(3); // the third file's write was refused
    mount.unlink(['f2']);
    const onDisk = held.reduce((n, f) => n + f.size(), 0);
    expect(onDisk).toBeLessThanOrEqual(1024 * 1024);
    expect(quota.used).toBeLessThanOrEqual(1024 * 1024);
    // A second descriptor of the same file: the space comes back at the last close only.
    const a = file(mount.open(['keep'], WRITE));
    const a2 = file(mount.open(['keep'], READ));
    for (const f of held) f.close();
    expect(quota.used).toBe(512);
    a.write(new Uint8Array(500_000), 0);
    const b = file(mount.open(['b'], WRITE));
    mount.rename(['b'], ['keep']); // replaces the open file
    expect(errnoOf(() => b.write(new Uint8Array(600_000), 0))).toBe(Errno.NOSPC);
    a.close();
    expect(errnoOf(() => b.write(new Uint8Array(600_000), 0))).toBe(Errno.NOSPC);
    a2.close();
    b.write(new Uint8Array(600_000), 0);
    b.close();
    expect(quota.used).toBe(600_512);
    a.close(); // a second close gives nothing back twice
    expect(quota.used).toBe(600_512);
    expect(readdirSync(dir)).toEqual(['keep']);
  });

  it('a new mount of the same folder starts from what the folder holds, however deep', () => {
    const { dir, quota, mount } = setup(1024 * 1024);
    const f = file(mount.open(['first'], WRITE));
    f.write(new Uint8Array(900_000), 0);
    f.close();
    // 40 levels: more than the measuring walk keeps open at once.
    let deep: string[] = [];
    for (let i = 0; i < 40; i++) mount.mkdir((deep = [...deep, `d${i}`]));
    const g = file(mount.open([...deep, 'g'], WRITE));
    g.write(new Uint8Array(10), 0);
    g.close();
    const used = quota.used;
    mount.close();
    for (let restart = 0; restart < 6; restart++) {
      const next: Quota = { limit: 1024 * 1024, used: 0 };
      const again = new HostMount(dir, next);
      expect(next.used).toBe(used);
      expect(errnoOf(() => file(again.open([`more${restart}`], WRITE)).write(new Uint8Array(900_000), 0))).toBe(Errno.NOSPC);
      again.unlink([`more${restart}`]);
      again.close();
    }
  });

  it('reads a folder from one descriptor of its own, a few entries at a time', () => {
    const { dir, mount } = setup();
    for (let i = 0; i < 500; i++) writeFileSync(join(dir, `f${i}`), '');
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const cursor = mount.openDir([]);
    expect(fds()).toBe(before + 1);
    const names = new Set<string>();
    for (let e = cursor.next(); e; e = cursor.next()) names.add(e.name);
    expect(names.size).toBe(500);
    cursor.close();
    cursor.close();
    expect(fds()).toBe(before);
    // Half-read folders count against the mount's descriptors: they cannot take the process's.
    const cursors: DirCursor[] = [];
    expect(
      errnoOf(() => {
        for (;;) {
          const c = mount.openDir([]);
          c.next();
          cursors.push(c);
        }
      }),
    ).toBe(Errno.MFILE);
    expect(cursors.length).toBe(MAX_HOST_FDS - 1);
    for (const c of cursors) c.close();
    expect(fds()).toBe(before);
    mount.close();
  });

  it('sets times on the host file, to the microsecond', () => {
    const { dir, mount } = setup();
    writeFileSync(join(dir, 't.txt'), 'x');
    mount.setTimes(['t.txt'], 1_000_000_000_000_000_000n, 1_234_567_890_123_456_000n);
    const st = statSync(join(dir, 't.txt'), { bigint: true });
    expect(st.atimeNs).toBe(1_000_000_000_000_000_000n);
    expect(Number(st.mtimeNs - 1_234_567_890_123_456_000n)).toBeLessThan(1000);
    expect(Number(mount.stat(['t.txt']).mtimNs / 1000n)).toBe(1_234_567_890_123_456);
  });

  it('never reaches outside while a folder is swapped for a link to outside, again and again', async () => {
    const { dir, outside, mount } = setup();
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'f.txt'), 'inside');
    writeFileSync(join(outside, 'f.txt'), 'CANARY');
    const stop = new Int32Array(new SharedArrayBuffer(4));
    // Another thread swaps d for a link to `outside` (and back) as fast as it can.
    const swapper = new Worker(
      `const fs = require('node:fs'); const { workerData: w, parentPort } = require('node:worker_threads');
       const stop = new Int32Array(w.stop); let n = 0;
       while (Atomics.load(stop, 0) === 0) {
         try { fs.renameSync(w.d, w.d + '.real'); fs.symlinkSync(w.outside, w.d); fs.unlinkSync(w.d); fs.renameSync(w.d + '.real', w.d); n++; } catch {}
       }
       parentPort.postMessage(n);`,
      { eval: true, workerData: { d: join(dir, 'd'), outside, stop: stop.buffer } },
    );
    const swaps = new Promise<number>((resolve) => swapper.once('message', resolve));
    const seen = new Set<string>();
    let failed = 0;
    const t0 = Date.now();
    for (let i = 0; Date.now() - t0 < 1500; i++) {
      const attempts = [
        () => seen.add(text(file(mount.open(['d', 'f.txt'], READ)))),
        () => {
          const f = file(mount.open(['d', `w${i}.txt`], WRITE));
          f.write(new TextEncoder().encode('w'), 0);
          f.close();
        },
        () => mount.list(['d']).forEach((e) => e.kind === 'file' && seen.add(text(file(mount.open(['d', e.name], READ))))),
        () => mount.mkdir(['d', `sub${i}`]),
        () => mount.rename(['d', `w${i}.txt`], ['d', `r${i}.txt`]),
        () => mount.unlink(['d', `r${i}.txt`]),
        () => mount.setTimes(['d', 'f.txt'], 0n, 0n),
        () => mount.stat(['d', 'f.txt']),
      ];
      for (const attempt of attempts) {
        try {
          attempt();
        } catch (err) {
          if (!(err instanceof WasiError)) throw err;
          failed++;
        }
      }
    }
    Atomics.store(stop, 0, 1);
    expect(await swaps).toBeGreaterThan(100);
    await swapper.terminate();
    expect(failed).toBeGreaterThan(0); // the swaps did hit the loop
    expect([...seen]).not.toContain('CANARY');
    expect(readdirSync(outside).sort()).toEqual(['f.txt', 'secret.txt']);
    expect(readFileSync(join(outside, 'f.txt'), 'utf8')).toBe('CANARY');
    expect(statSync(join(outside, 'f.txt')).mtimeMs).toBeGreaterThan(1000);
  });

  it('closes what it opens, and holds at most MAX_HOST_FDS descriptors', () => {
    const { dir, mount } = setup();
    writeFileSync(join(dir, 'f'), 'x');
    mkdirSync(join(dir, 'a', 'b', 'c'), { recursive: true });
    writeFileSync(join(dir, 'a', 'b', 'c', 'g'), 'y');
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    const open = [1, 2, 3].map(() => file(mount.open(['f'], READ)));
    file(mount.open(['a', 'b', 'c', 'g'], READ)).close();
    mount.list(['a', 'b']);
    expect(fds()).toBe(before + 3);
    for (const f of open) f.close();
    expect(fds()).toBe(before);
    const many: OpenedFile[] = [];
    expect(
      errnoOf(() => {
        for (;;) many.push(file(mount.open(['f'], READ)));
      }),
    ).toBe(Errno.MFILE);
    expect(many.length).toBe(MAX_HOST_FDS - 1); // the root holds one
    for (const f of many) f.close();
    mount.close();
    expect(fds()).toBe(before - 1);
  });

});
