// Escape attempts against a session: each must fail inside the guest with a Python error,
// leave the host untouched, and (unless the guest itself was destroyed) leave the
// session usable.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGuestDir } from '../test-setup/session.js';
import { type Guest, loadGuest } from './guest.js';
import type { Session } from './session.js';

const SECRET = 'host-secret-7f3a9c';
let guest: Guest;
let root: string;
let outside: string;
const sessions: Session[] = [];

beforeAll(async () => {
  guest = await loadGuest(await testGuestDir(), { warm: 1 });
  root = mkdtempSync(join(tmpdir(), 'tic-escape-'));
  outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  process.env.TIC_TEST_SECRET = SECRET;
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await guest.close();
});

async function session(name: string, timeoutMs = 5000): Promise<{ s: Session; dir: string }> {
  const dir = join(root, name);
  const s = await guest.createSession({ workspace: dir, limits: { timeoutMs } });
  sessions.push(s);
  return { s, dir };
}

/** Runs `attempt` in a try; the cell reports the exception class it raised (or "no error"). */
async function attempt(s: Session, code: string): Promise<string> {
  const body = code.split('\n').map((l) => `    ${l}`).join('\n');
  const r = await s.run(`try:\n${body}\n    outcome = "no error"\nexcept BaseException as e:\n    outcome = type(e).__name__ + ": " + str(e)\noutcome`);
  expect(r.ok, `${code}\n${r.error?.traceback}`).toBe(true);
  expect(r.stdout + r.stderr + (r.value ?? '')).not.toContain(SECRET);
  return eval(r.value!) as string; // a Python str repr of plain text is a JS string literal
}

describe('file system escapes', () => {
  it('cannot read host files by absolute path, .. or through the stdlib mount', async () => {
    const { s } = await session('fs1');
    const tries = [
      'open("/etc/passwd").read()',
      `open(${JSON.stringify(join(outside, 'secret.txt'))}).read()`,
      'open("../outside/secret.txt").read()',
      'open("/workspace/../outside/secret.txt").read()',
      'open("/lib/../../etc/passwd").read()',
      'open("/proc/self/environ").read()',
      'os.listdir("/etc")',
      'os.chdir("/tmp")',
      'os.stat("/")',
    ];
    await s.run('import os');
    for (const code of tries) expect(await attempt(s, code), code).toMatch(/^(PermissionError|FileNotFoundError|OSError|NotADirectoryError)/);
    // What the guest can list is its own mounts, nothing of the host.
    expect(await attempt(s, 'assert sorted(os.listdir("/")) in (["lib", "workspace"], []), os.listdir("/")')).toMatch(/no error|PermissionError|OSError|FileNotFoundError/);
    expect(await attempt(s, 'os.chdir("..")\nassert os.getcwd() == "/workspace", os.getcwd()')).toMatch(/^(no error|PermissionError|OSError)/);
    expect((await s.run('os.getcwd()')).value).toBe("'/workspace'");
  });

  it('cannot make links, and a link the host left in the workspace leads nowhere', async () => {
    const { s, dir } = await session('fs2');
    mkdirSync(dir, { recursive: true });
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'link.txt'));
    symlinkSync(outside, join(dir, 'linkdir'));
    await s.run('import os');
    expect(await attempt(s, 'os.symlink("/etc/passwd", "p")')).toMatch(/^(PermissionError|OSError)/);
    expect(await attempt(s, 'open("a", "w").close()\nos.link("a", "b")')).toMatch(/^(PermissionError|OSError)/);
    expect(await attempt(s, 'open("link.txt").read()')).toMatch(/^FileNotFoundError/);
    expect(await attempt(s, 'os.listdir("linkdir")')).toMatch(/^FileNotFoundError/);
    expect((await s.run('sorted(os.listdir("."))')).value).toBe("['a']");
    // Writing a file of the link's name, or into the linked folder, fails: never through the link.
    expect(await attempt(s, 'open("link.txt", "w").write("overwrite")')).toMatch(/^PermissionError/);
    expect(await attempt(s, 'os.makedirs("linkdir", exist_ok=True)')).toMatch(/^(FileExistsError|PermissionError)/);
    expect(await attempt(s, 'open("linkdir/x", "w").write("y")')).toMatch(/^(FileNotFoundError|PermissionError)/);
    expect(await attempt(s, 'os.utime("link.txt", (1, 1))')).toMatch(/^FileNotFoundError/);
    expect(await attempt(s, 'os.remove("link.txt")')).toMatch(/^FileNotFoundError/);
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe(SECRET);
    expect(existsSync(join(outside, 'x'))).toBe(false);
    expect(lstatSync(join(dir, 'link.txt')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'link.txt'))).toBe(join(outside, 'secret.txt'));
  });

  it('skips special files: a fifo in the workspace is not there and cannot block the cell', async () => {
    const { s, dir } = await session('fifo');
    mkdirSync(dir, { recursive: true });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await s.run('import os');
    expect(await attempt(s, 'open("pipe").read()')).toMatch(/^FileNotFoundError/);
    expect(await attempt(s, 'open("pipe", "w").write("x")')).toMatch(/^PermissionError/);
    expect((await s.run('os.listdir(".")')).value).toBe('[]');
  });

  it('never reads or writes outside while a folder is swapped for a link to outside, many times', async () => {
    const { s, dir } = await session('race', 30_000);
    const CANARY = 'canary-5d1e0b';
    const readable = join(root, 'race-outside'); // holds a file of the same name as inside
    const empty = join(root, 'race-canary-dir'); // must stay empty
    mkdirSync(join(dir, 'd'), { recursive: true });
    writeFileSync(join(dir, 'd', 'f.txt'), 'inside');
    mkdirSync(readable);
    mkdirSync(empty);
    writeFileSync(join(readable, 'f.txt'), CANARY);
    const mtime = statSync(join(readable, 'f.txt')).mtimeMs;
    const stop = new Int32Array(new SharedArrayBuffer(4));
    const swapper = new Worker(
      `const fs = require('node:fs'); const { workerData: w, parentPort } = require('node:worker_threads');
       const stop = new Int32Array(w.stop); let n = 0;
       while (Atomics.load(stop, 0) === 0) {
         const target = n % 2 ? w.readable : w.empty;
         try { fs.renameSync(w.d, w.d + '.real'); fs.symlinkSync(target, w.d); } catch {}
         // The real folder goes back whatever happened: the guest may have made a new d
         // meanwhile (then the link failed), which a stuck swapper would keep forever.
         if (fs.existsSync(w.d + '.real')) {
           try { fs.rmSync(w.d, { recursive: true, force: true }); fs.renameSync(w.d + '.real', w.d); n++; } catch {}
         }
         if (n === 200) fs.writeFileSync(w.enough, '');
       }
       parentPort.postMessage(n);`,
      { eval: true, workerData: { d: join(dir, 'd'), enough: join(dir, 'enough'), readable, empty, stop: stop.buffer } },
    );
    const swaps = new Promise<number>((resolve) => swapper.once('message', resolve));
    const cell = `import os, time
seen, failed, done = set(), 0, 0
def read(p):
    with open(p) as f:
        seen.add(f.read())
def write(i):
    with open(f"d/w{i}.txt", "w") as f:
        f.write("w")
def walk(i):
    for top, dirs, files in os.walk("d"):
        for name in files:
            read(os.path.join(top, name))
ops = [lambda i: read("d/f.txt"), write, walk, lambda i: os.makedirs(f"d/s{i}/t"), lambda i: os.rename(f"d/w{i}.txt", f"d/r{i}.txt"),
       lambda i: os.remove(f"d/r{i}.txt"), lambda i: os.utime("d/f.txt", (1, 1)), lambda i: open("d/f.txt", "a").write("+"),
       lambda i: [e.stat() for e in os.scandir("d")], lambda i: os.rmdir(f"d/s{i}/t")]
t, i = time.time(), 0
# Until the host has swapped 200 times (a count, not a time: a loaded machine swaps slowly)
# and a swap has landed under an operation (on a busy machine the swaps can all fall between them).
while (not os.path.exists("enough") or failed == 0) and time.time() - t < 25:
    i += 1
    for op in ops:
        try:
            op(i)
            done += 1
        except OSError:
            failed += 1
print(sorted(x[:20] for x in seen), failed, done)
(failed > 0, done > 0)`;
    const r = await s.run(cell);
    Atomics.store(stop, 0, 1);
    expect(await swaps).toBeGreaterThan(50);
    await swapper.terminate();
    expect(r.ok, r.error?.traceback).toBe(true);
    expect(r.value).toBe('(True, True)'); // the swaps did land in the middle of the loop
    expect(r.stdout).not.toContain(CANARY);
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(readable)).toEqual(['f.txt']);
    expect(readFileSync(join(readable, 'f.txt'), 'utf8')).toBe(CANARY);
    expect(statSync(join(readable, 'f.txt')).mtimeMs).toBe(mtime);
  });

  it('cannot write the stdlib or move files across mounts', async () => {
    const { s } = await session('fs3');
    await s.run('import os\nopen("mine", "w").write("x")');
    expect(await attempt(s, 'open("/lib/python311.zip", "wb").write(b"x")')).toMatch(/^(PermissionError|OSError)/);
    expect(await attempt(s, 'open("/lib/new.py", "w")')).toMatch(/^(PermissionError|OSError)/);
    expect(await attempt(s, 'os.rename("/workspace/mine", "/lib/mine")')).toMatch(/^(PermissionError|OSError)/);
    expect(await attempt(s, 'os.remove("/lib/python311.zip")')).toMatch(/^(PermissionError|OSError)/);
    expect((await s.run('import json\njson.dumps([1])')).value).toBe('\'[1]\'');
  });

  it('does not see another session\'s workspace, by any path', async () => {
    const a = await session('a');
    const b = await session('b');
    await a.s.run('open("only-a.txt", "w").write("a")');
    expect(readFileSync(join(a.dir, 'only-a.txt'), 'utf8')).toBe('a');
    await b.s.run('import os');
    expect(await attempt(b.s, 'open("../a/only-a.txt").read()')).toMatch(/^(PermissionError|FileNotFoundError|OSError)/);
    expect(await attempt(b.s, `open(${JSON.stringify(join(a.dir, 'only-a.txt'))}).read()`)).toMatch(/^(PermissionError|FileNotFoundError|OSError)/);
    expect((await b.s.run('os.listdir(".")')).value).toBe('[]');
  });
});

describe('network, processes and environment', () => {
  it('has no sockets, no subprocesses, no threads', async () => {
    const { s } = await session('net');
    const tries = [
      'import socket\nsocket.create_connection(("127.0.0.1", 80), timeout=1)',
      'import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("1.1.1.1", 53))',
      'import urllib.request\nurllib.request.urlopen("http://example.com", timeout=1)',
      'import subprocess\nsubprocess.run(["ls"])',
      'import os\nassert os.system("ls") == 0',
      'import os\nos.fork()',
      'import _thread\n_thread.start_new_thread(print, ())',
    ];
    for (const code of tries) expect(await attempt(s, code), code).toMatch(/^(OSError|PermissionError|ModuleNotFoundError|ImportError|AttributeError|RuntimeError|AssertionError|NotImplementedError|URLError|ConnectionRefusedError|TimeoutError)/);
  });

  it('sees none of the host\'s environment variables', async () => {
    const { s } = await session('env');
    const r = await s.run('import os\nsorted(os.environ)');
    expect(r.value).toBe('[]');
    expect(await attempt(s, 'import os\nassert os.getenv("TIC_TEST_SECRET") is None and os.getenv("HOME") is None')).toBe('no error');
  });
});

describe('resource exhaustion', () => {
  it('stops runaway recursion in Python and in the parser with an error; the session goes on', async () => {
    const { s } = await session('rec');
    expect(await attempt(s, 'def f(n):\n    return f(n + 1)\nf(0)')).toMatch(/^RecursionError/);
    expect(await attempt(s, 'import json\njson.loads("[" * 100000 + "]" * 100000)')).toMatch(/^RecursionError/);
    expect(await attempt(s, 'eval("(" * 10000 + ")" * 10000)')).toMatch(/^(RecursionError|SyntaxError|MemoryError)/);
    expect((await s.run('1 + 1')).value).toBe('2');
  });

  it('contains a C stack overflow: the session ends clearly, the host and other sessions go on', async () => {
    const { s } = await session('stack');
    // repr of a deeply nested list recurses in C; with the recursion limit lifted it runs
    // off the guest's C stack, and the WebAssembly trap ends this guest, not the host.
    const r = await s.run('import sys\nsys.setrecursionlimit(10**7)\nl = []\nfor i in range(10**6):\n    l = [l]\nrepr(l)');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toBe('SessionEnded');
    expect(r.error?.message).toMatch(/the guest crashed: .*this session is over/);
    expect(s.isClosed).toBe(true);
    const other = await session('stack-other');
    expect((await other.s.run('6 * 7')).value).toBe('42');
  });
});
