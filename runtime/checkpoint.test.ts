// Sessions as data: checkpoint between cells, restore in this process or another, fork;
// a checkpoint is bound to its build, signed under a key, and hostile input on restore.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../compiler/build.js';
import { testGuestDir } from '../test-setup/session.js';
import { CheckpointError, applyPage, decodeCheckpoint, encodeCheckpoint, initialMemory } from './checkpoint.js';
import { type Guest, loadGuest } from './guest.js';
import { packageRoot } from './package-root.js';
import { type Session, SessionBusyError } from './session.js';

let dir: string;
let guest: Guest;
let signed: Guest;
const open: Session[] = [];
const handlers = { echo: (a: unknown) => a, slow: (a: { ms: number }) => new Promise((r) => setTimeout(() => r(a.ms), a.ms)) };

beforeAll(async () => {
  dir = await testGuestDir();
  guest = await loadGuest(dir, { warm: 0 });
  signed = await loadGuest(dir, { warm: 0, checkpointKey: 'k'.repeat(32) });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await guest?.close();
  await signed?.close();
});

async function session(g: Guest = guest): Promise<Session> {
  const s = await g.createSession({ handlers });
  open.push(s);
  return s;
}

const track = (s: Session) => (open.push(s), s);

/** A session that holds a bit of everything a typical conversation leaves behind. */
const SETUP = `import json, re, datetime, sqlite3, asyncio, collections
rows = [{"id": i, "name": f"row{i}"} for i in range(10_000)]
class Point:
    def __init__(self, x): self.x = x
    def norm(self): return abs(self.x)
p = Point(-3)
def counter():
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n
    return inc
inc = counter(); inc()
gen = (i * i for i in range(10)); next(gen)
db = sqlite3.connect(":memory:"); db.execute("create table t (x)"); db.execute("insert into t values (42)")
open("notes.txt", "w").write("hello\\n" * 100)
kept = open("kept.txt", "w"); kept.write("partial")
gone = open("gone.txt", "w"); gone.write("still readable"); gone.flush()
import os; os.remove("gone.txt")
async def later(): return "task done"
task = asyncio.ensure_future(later())
len(rows)`;
const CHECK = `kept.write(" more"); kept.close(); gone.seek(0)
(len(rows), rows[-1]["name"], p.norm(), inc(), next(gen), db.execute("select x from t").fetchone()[0], open("kept.txt").read(), len(open("notes.txt").read()), sorted(os.listdir(".")), await task)`;
const EXPECTED = "(10000, 'row9999', 3, 2, 1, 42, 'partial more', 600, ['kept.txt', 'notes.txt'], 'task done')";

describe('a checkpoint', () => {
  it('restores in this process: heap, classes, closures, generators, sqlite, in-memory files, open and removed-but-open files, a pending task', async () => {
    const s = await session();
    expect((await s.run(SETUP)).value).toBe('10000');
    const bytes = await s.checkpoint();
    const restored = track(await guest.restore(bytes, { handlers }));
    const r = await restored.run(CHECK);
    expect(r.error?.traceback).toBeUndefined();
    expect(r.value).toBe(EXPECTED);
    // Tool calls of the restored session reach its handlers.
    expect((await restored.run('tools.echo(text="back")')).value).toBe("{'text': 'back'}");
  });

  it('restores in another process', async () => {
    const s = await session();
    await s.run(SETUP);
    const file = join(mkdtempSync(join(tmpdir(), 'tic-ckpt-')), 'session.tic');
    writeFileSync(file, await s.checkpoint());
    const script = `const { loadGuest } = await import(${JSON.stringify(join(packageRoot(), 'build', 'index.js'))});
      const { readFileSync } = await import('node:fs');
      const g = await loadGuest(${JSON.stringify(dir)}, { warm: 0 });
      const s = await g.restore(readFileSync(${JSON.stringify(file)}));
      const r = await s.run(${JSON.stringify(CHECK)});
      console.log(JSON.stringify(r.value ?? r.error));
      await s.close(); await g.close();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toBe(EXPECTED);
  });

  it('is refused while a cell runs, and the cell is not disturbed', async () => {
    const s = await session();
    const running = s.run('tools.slow(ms=500)');
    await new Promise((r) => setTimeout(r, 100));
    await expect(s.checkpoint()).rejects.toThrow(SessionBusyError);
    expect((await running).value).toBe('500');
  });

  it('stores only the pages that differ from the snapshot, compressed', async () => {
    const s = await session();
    await s.run('x = 1');
    const small = await s.checkpoint();
    await s.run('blob = bytes(range(256)) * 40_000'); // 10 MB
    const big = await s.checkpoint();
    expect(big.length).toBeGreaterThan(small.length + 100_000);
    const whole = initialMemory((await import('node:fs')).readFileSync(join(dir, 'guest.wasm'))).length;
    expect(small.length).toBeLessThan(whole / 5);
  });
});

describe('fork', () => {
  it('gives an independent copy with fresh randomness', async () => {
    const s = await session();
    await s.run('import random\nrandom.seed(7)\nitems = [1, 2, 3]');
    const f = track(await s.fork());
    const [a, b] = [await s.run('random.random()'), await f.run('random.random()')];
    expect(a.value).not.toBe(b.value);
    await s.run('items.append(4)');
    await f.run('items.append(5)');
    expect((await s.run('items')).value).toBe('[1, 2, 3, 4]');
    expect((await f.run('items')).value).toBe('[1, 2, 3, 5]');
  });
});

describe('restoring is careful', () => {
  it('refuses a checkpoint of another build, naming both guests', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tic-ckpt-other-'));
    writeFileSync(join(other, 'tools.json'), JSON.stringify({ tools: [{ name: 'only', inputSchema: { type: 'object', properties: {} } }] }));
    await build({ inputs: [join(other, 'tools.json')], outDir: join(other, 'dist'), log: () => {} });
    const otherGuest = await loadGuest(join(other, 'dist'), { warm: 0 });
    try {
      const s = track(await otherGuest.createSession());
      await s.run('x = 1');
      const bytes = await s.checkpoint();
      await expect(guest.restore(bytes)).rejects.toThrow(new RegExp(`made by guest ${otherGuest.guestSha256.slice(0, 12)}.*not this build's guest ${guest.guestSha256.slice(0, 12)}`));
    } finally {
      await otherGuest.close();
    }
  });

  it('reads its chunks as hostile input: a count, a length or bytes past the body are refused by name', async () => {
    const s = await session();
    await s.run('big = [{"i": i, "s": str(i)} for i in range(20_000)]');
    const bytes = await s.checkpoint();
    const view = Buffer.from(bytes);
    const body = 48; // magic 8, version 2, flags 2, guest 32, body length 4
    const chunks = view.readUInt32LE(body);
    expect(chunks).toBeGreaterThan(2); // the 20,000 rows take several chunks, each compressed apart
    const mutate = (f: (b: Buffer) => void) => {
      const b = Buffer.from(view);
      f(b);
      return decodeCheckpoint(b, guest.guestSha256);
    };
    await expect(mutate((b) => b.writeUInt32LE(0xffff_ffff, body))).rejects.toThrow(/chunk \d+ of 4294967295 is cut short/);
    await expect(mutate((b) => b.writeUInt32LE(0x7fff_ffff, body + 4))).rejects.toThrow(/chunk 0 runs past its body/);
    await expect(mutate((b) => b.writeUInt32LE(chunks - 1, body))).rejects.toThrow(/bytes after its last chunk/);
    await expect(mutate((b) => (b[body + 12]! ^= 0xff))).rejects.toThrow(CheckpointError);
    expect((await track(await guest.restore(bytes)).run('big[19_999]["s"]')).value).toBe("'19999'");
  });

  it('under a key: signs, refuses a tampered byte, an unsigned checkpoint and another key', async () => {
    const s = await session(signed);
    await s.run('secret = 41');
    const bytes = await s.checkpoint();
    expect((await track(await signed.restore(bytes)).run('secret + 1')).value).toBe('42');
    for (const at of [20, 60, bytes.length - 40, bytes.length - 1]) {
      const tampered = bytes.slice();
      tampered[at]! ^= 1;
      await expect(signed.restore(tampered)).rejects.toThrow(CheckpointError);
    }
    const plain = await (await session()).checkpoint();
    await expect(signed.restore(plain)).rejects.toThrow(/not signed, and a checkpoint key is set/);
    const other = await loadGuest(dir, { warm: 0, checkpointKey: 'o'.repeat(32) });
    try {
      await expect(other.restore(bytes)).rejects.toThrow(/tampered with, or signed with another key/);
    } finally {
      await other.close();
    }
  });

  it('without a key, validates every field of the runtime state: hostile checkpoints are refused, the process lives', async () => {
    const s = await session();
    await s.run('f = open("a.txt", "w")\nf.write("x")');
    const good = await decodeCheckpoint(await s.checkpoint(), guest.guestSha256);
    const base = initialMemory((await import('node:fs')).readFileSync(join(dir, 'guest.wasm')));
    const memory = new Uint8Array(good.state.pages * 65536);
    memory.set(base);
    for (const p of good.pages) applyPage(memory, p.index, p.bytes); // pages are stored as XOR deltas
    const wasi = good.state.wasi as { fds: Record<string, unknown>[]; tree: Record<string, unknown>[] };
    const variants: [string, (w: typeof wasi, st: typeof good.state) => void][] = [
      ['fd out of range', (w) => (w.fds[0]!.fd = 100_000)],
      ['fd on stdio', (w) => (w.fds[0]!.fd = 1)],
      ['parts with ..', (w) => (w.fds[0]!.parts = ['..', 'etc'])],
      ['unknown mount', (w) => (w.fds[0]!.mount = '/etc')],
      ['node out of range', (w) => (w.fds[0]!.node = 999)],
      ['negative position', (w) => (w.fds[0]!.pos = -1)],
      ['blob past the end', (w) => (w.tree[0]!.blob = [0, 1e9])],
      ['name with a slash', (w) => (w.tree[0]!.name = 'a/b')],
      ['parent loop', (w) => (w.tree[0]!.parent = 5)],
      ['a tree past the quota', (w) => (w.tree = w.tree.concat(Array.from({ length: 600_000 }, (_, i) => ({ kind: 'dir', parent: -1, name: `d${i}`, mtime: '1' }))))],
      ['pages too few', (_w, st) => (st.pages = 1)],
      ['globals not numbers', (_w, st) => (st.globals = ['x'])],
    ];
    for (const [what, mutate] of variants) {
      const state = structuredClone(good.state);
      mutate(state.wasi as typeof wasi, state);
      const bytes = await encodeCheckpoint(state, memory, base, [good.blobs], guest.guestSha256);
      await expect(guest.restore(bytes), what).rejects.toThrow(CheckpointError);
    }
    // The good one still restores, and the guest still makes sessions.
    const fine = await encodeCheckpoint(good.state, memory, base, [good.blobs], guest.guestSha256);
    expect((await track(await guest.restore(fine)).run('f.write("y"); f.close(); open("a.txt").read()')).value).toBe("'xy'");
  }, 120_000);
});
