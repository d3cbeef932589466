import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testGuestDir, testSessions } from '../test-setup/session.js';
import { loadGuest } from './guest.js';
import { type Handlers, SessionClosedError } from './session.js';

const { guest: testGuest, session, closeAfter } = testSessions({ warm: 2 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a session', () => {
  it('keeps globals across cells and returns the last value', async () => {
    const s = await session();
    expect((await s.run('x = 2')).ok).toBe(true);
    const r = await s.run('x * 21');
    expect(r).toMatchObject({ ok: true, value: '42', stdout: '', stderr: '', toolCalls: [] });
  });

  it('streams output while the cell runs, before it returns', async () => {
    const seen: string[] = [];
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const s = await session({
      handlers: {
        // Answers only once the host has seen the line printed before the call.
        gate: async () => {
          await opened;
          return seen.join('');
        },
      },
    });
    const r = await s.run('print("before", flush=True)\nseen = tools.gate()\nprint("after")\nseen', {
      onStdout: (t) => {
        seen.push(t);
        if (seen.join('').includes('before\n')) open();
      },
    });
    expect(r.value).toBe("'before\\n'");
    expect(r.stdout).toBe('before\nafter\n');
  });

  it('gives handlers the exact arguments by original tool name and records each call', async () => {
    const calls: unknown[] = [];
    const events: string[] = [];
    const s = await session({
      handlers: {
        echo: (args: unknown) => {
          calls.push(args);
          return args;
        },
        slow: async ({ ms }: { ms: number }) => {
          await sleep(ms);
          return { waited: ms };
        },
      },
    });
    const r = await s.run('a = tools.echo("héllo ✓", n=3, tags=["a"], extra={"big": 2**53, "f": 0.1, "none": None, "nested": [[], {}]})\nb = tools.slow(5)\n(a, b)', {
      onToolCall: (e) => events.push(`${e.name}:${e.ok}`),
    });
    expect(r.error).toBeUndefined();
    expect(calls).toEqual([{ text: 'héllo ✓', n: 3, tags: ['a'], extra: { big: 2 ** 53, f: 0.1, none: null, nested: [[], {}] } }]);
    expect(r.value).toBe("({'text': 'héllo ✓', 'n': 3, 'tags': ['a'], 'extra': {'big': 9007199254740992, 'f': 0.1, 'none': None, 'nested': [[], {}]}}, {'waited': 5})");
    expect(r.toolCalls.map((c) => [c.name, c.ok])).toEqual([['echo', true], ['slow', true]]);
    expect(r.toolCalls[1]!.ms).toBeGreaterThanOrEqual(4);
    expect(events).toEqual(['echo:true', 'slow:true']);
  });

  it('checks arguments against the schema before the handler runs; the error names the argument and the rule', async () => {
    let ran = 0;
    // The pre-flight check would refuse these literals before the cell runs: off, to test the host.
    const s = await session({ handlers: { echo: () => ++ran }, check: 'off' });
    const cases: [string, RegExp][] = [
      ['tools.echo(5)', /argument "text" must be string/],
      ['tools.echo("x" * 21)', /argument "text" must NOT have more than 20 characters/],
      ['tools.echo("x", n=-1)', /argument "n" must be >= 0/],
      ['tools.echo("x", tags=["c"])', /argument "tags"\[0\] must be one of "a", "b"/],
      ['tools._tic.call("echo", {"text": "x", "bogus": 1})', /unexpected argument "bogus"/],
      ['tools._tic.call("echo", {})', /missing required argument "text"/],
    ];
    for (const [code, message] of cases) {
      const r = await s.run(`import _tic\ntools._tic = _tic\n${code}`);
      expect(r.error?.type, code).toBe('_tic.ToolArgumentError');
      expect(r.error?.message, code).toMatch(message);
    }
    expect(ran).toBe(0);
    const caught = await s.run('try:\n    tools.echo(5)\nexcept TypeError as e:\n    t = "TypeError"\ntry:\n    tools.echo(5)\nexcept ValueError as e:\n    v = "ValueError"\n(t, v, tools.echo("ok"))');
    expect(caught.value).toBe("('TypeError', 'ValueError', 1)");
  });

  it('raises a handler\'s error in Python with its type and message; the session goes on', async () => {
    class QuotaExceeded extends Error {
      override name = 'QuotaExceeded';
    }
    const s = await session({
      handlers: {
        fail: async ({ message }: { message?: string }) => {
          throw new QuotaExceeded(message ?? 'no');
        },
      },
    });
    const r = await s.run('tools.fail(message="over the limit")');
    expect(r.error).toMatchObject({ type: '_tic.ToolError', message: 'over the limit' });
    expect(r.toolCalls).toMatchObject([{ name: 'fail', ok: false }]);
    const r2 = await s.run('try:\n    tools.fail()\nexcept tools.ToolError as e:\n    print(e.type, e)');
    expect(r2.stdout).toBe('QuotaExceeded no\n');
    const r3 = await s.run('tools.unhandled()');
    expect(r3.error?.message).toBe('the host has no handler for tool "unhandled"');
  });

  it('turns MCP CallToolResults into Python values', async () => {
    const s = await session({
      handlers: {
        'mcp-result': ({ kind }: { kind: string }) => {
          if (kind === 'structured') return { content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 1 } };
          if (kind === 'text') return { content: [{ type: 'text', text: 'plain' }] };
          if (kind === 'blocks') return { content: [{ type: 'text', text: 'one' }, { type: 'image', data: 'AA==', mimeType: 'image/png' }] };
          return { content: [{ type: 'text', text: 'it broke' }], isError: true };
        },
      },
    });
    const r = await s.run('[tools.mcp_result(k) for k in ("structured", "text", "blocks")]');
    expect(r.value).toBe("[{'a': 1}, 'plain', ['one', <Image image/png 1 bytes>]]");
    const e = await s.run('tools.mcp_result("error")');
    expect(e.error).toMatchObject({ type: '_tic.ToolError', message: 'it broke' });
  });

  it('runs the aio calls of one gather concurrently on the host', async () => {
    let inFlight = 0;
    let most = 0;
    const s = await session({
      handlers: {
        slow: async ({ ms, tag }: { ms: number; tag?: string }) => {
          most = Math.max(most, ++inFlight);
          await sleep(ms);
          inFlight--;
          return tag ?? null;
        },
      },
    });
    const r = await s.run('import asyncio\nawait asyncio.gather(*[tools.aio.slow(30, tag=str(i)) for i in range(6)])');
    expect(r.value).toBe("['0', '1', '2', '3', '4', '5']");
    expect(most).toBe(6);
    // And from asyncio.run inside a cell, with a timer racing the calls.
    const r2 = await s.run('async def main():\n    t = asyncio.create_task(asyncio.sleep(0.01))\n    out = await asyncio.gather(tools.aio.slow(20, tag="x"), tools.aio.slow(1, tag="y"))\n    await t\n    return out\nasyncio.run(main())');
    expect(r2.value).toBe("['x', 'y']");
  });
});

describe('limits', () => {
  it('interrupts a runaway cell with TimeoutError; globals and workspace files survive', async () => {
    const s = await session({ limits: { timeoutMs: 300 } });
    await s.run('kept = "yes"\nopen("f.txt", "w").write("data")');
    const r = await s.run('while True:\n    pass');
    expect(r.error?.type).toBe('TimeoutError');
    expect(r.error?.traceback).toContain('File "<cell-2>", line ');
    const after = await s.run('(kept, open("f.txt").read())');
    expect(after.value).toBe("('yes', 'data')");
  });

  it('cuts a sleep short and a tool call the host never answers, with TimeoutError', async () => {
    const s = await session({ handlers: { never: () => new Promise(() => {}) }, limits: { timeoutMs: 300 } });
    const r = await s.run('import time\ntime.sleep(60)\nprint("slept")');
    expect(r.error?.type).toBe('TimeoutError');
    expect(r.stdout).toBe('');
    const r2 = await s.run('tools.never()');
    expect(r2.error?.type).toBe('TimeoutError');
    const r3 = await s.run('import asyncio\nawait asyncio.gather(tools.aio.never(), asyncio.sleep(60))');
    expect(r3.error?.type).toBe('TimeoutError');
    expect((await s.run('1 + 1')).value).toBe('2');
  });

  it('ends the session clearly when a cell ignores its timeout (stuck in C, or swallowing it)', async () => {
    for (const code of ['sum(range(10**15))', 'while True:\n    try:\n        n = 0\n        while True: n += 1\n    except BaseException:\n        pass']) {
      const s = await session({ limits: { timeoutMs: 200, graceMs: 300 } });
      const r = await s.run(code);
      expect(r.ok, code).toBe(false);
      expect(r.error?.type, code).toBe('SessionEnded');
      expect(r.error?.message, code).toMatch(/did not stop within 300 ms after its time limit/);
      expect(s.isClosed).toBe(true);
      await expect(s.run('1')).rejects.toBeInstanceOf(SessionClosedError);
    }
  });

  it('turns a memory bomb into MemoryError, and the session goes on', async () => {
    const s = await session({ limits: { memoryMb: 64 } });
    for (const bomb of ['b = bytearray(200 * 1024 * 1024)', 'l = [0] * (100 * 1024 * 1024)', 's = "x" * (1 << 30)', 'chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))']) {
      const r = await s.run(bomb);
      expect(r.error?.type, bomb).toBe('MemoryError');
    }
    await s.run('chunks = None');
    expect((await s.run('len(bytearray(8 * 1024 * 1024))')).value).toBe('8388608');
  });

  it('caps output with a marker and never holds more', async () => {
    const s = await session({ limits: { maxOutputBytes: 1000 } });
    let streamed = 0;
    const r = await s.run('for i in range(100000):\n    print("x" * 100)\n"done"', { onStdout: (t) => (streamed += t.length) });
    expect(r.value).toBe("'done'");
    expect(r.stdout.length).toBeLessThan(1100);
    expect(r.stdout).toMatch(/\[tooliscode: output truncated after 1000 bytes\]\n$/);
    expect(streamed).toBe(r.stdout.length);
    expect((await s.run('print("next cell")')).stdout).toBe('next cell\n');
  });

  it('fills the workspace only up to its quota: then writes fail with OSError (ENOSPC)', async () => {
    const s = await session({ limits: { workspaceMb: 1 } });
    const r = await s.run('import errno\ntry:\n    with open("big", "wb") as f:\n        f.write(b"x" * (2 << 20))\nexcept OSError as e:\n    err = errno.errorcode[e.errno]\nerr');
    expect(r.value).toBe("'ENOSPC'");
    const many = await s.run('import os\nn = 0\ntry:\n    while True:\n        open(f"f{n}", "w").close()\n        n += 1\nexcept OSError as e:\n    code = errno.errorcode[e.errno]\n(code, n < 3000)');
    expect(many.value).toBe("('ENOSPC', True)");
    expect((await s.run('import os\nfor f in os.listdir():\n    os.remove(f)\nopen("small", "w").write("ok")')).ok).toBe(true);
  });
});

describe('workspace folder', () => {
  const folder = () => join(realpathSync(mkdtempSync(join(tmpdir(), 'tic-ws-'))), 'ws'); // created if missing

  it('is the host folder itself: host files are visible, cell writes and deletes reach the host', async () => {
    const dir = folder();
    const s = await session({ workspace: dir });
    expect(existsSync(dir)).toBe(true);
    writeFileSync(join(dir, 'in.txt'), 'from host');
    const r = await s.run('import os\ndata = open("in.txt").read()\nos.makedirs("out/deep")\nopen("out/deep/r.txt", "w").write(data.upper())\ndata');
    expect(r.value).toBe("'from host'");
    expect(readFileSync(join(dir, 'out', 'deep', 'r.txt'), 'utf8')).toBe('FROM HOST');
    writeFileSync(join(dir, 'in.txt'), 'changed on host');
    expect((await s.run('open("in.txt").read()')).value).toBe("'changed on host'");
    mkdirSync(join(dir, 'new'));
    writeFileSync(join(dir, 'new', 'x'), '');
    expect((await s.run('sorted(os.listdir("new")), sorted(os.listdir("."))')).value).toBe("(['x'], ['in.txt', 'new', 'out'])");
    await s.run('os.remove("in.txt")\nos.rename("out/deep/r.txt", "moved.txt")');
    expect(existsSync(join(dir, 'in.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'moved.txt'), 'utf8')).toBe('FROM HOST');
  });

  it('shows a flushed write to the host while the cell still runs, and a host write to the cell', async () => {
    const dir = folder();
    const seen: string[] = [];
    const s = await session({
      workspace: dir,
      handlers: {
        never: () => {
          seen.push(readFileSync(join(dir, 'log.txt'), 'utf8'));
          writeFileSync(join(dir, 'reply.txt'), 'from host, mid-cell');
          return null;
        },
      },
    });
    const r = await s.run('f = open("log.txt", "w")\nf.write("line 1\\n")\nf.flush()\ntools.never()\nf.write("line 2\\n")\nf.close()\nopen("reply.txt").read()');
    expect(r.value).toBe("'from host, mid-cell'");
    expect(seen).toEqual(['line 1\n']);
    expect(readFileSync(join(dir, 'log.txt'), 'utf8')).toBe('line 1\nline 2\n');
  });

  // Each way a session can end right after a write: the closed file is on the host.
  const endings: [string, string, { timeoutMs?: number; graceMs?: number; memoryMb?: number }][] = [
    ['a hard stop (a loop that swallows TimeoutError)', 'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass', { timeoutMs: 1500, graceMs: 500 }],
    ['os._exit', 'import os\nos._exit(3)', {}],
    ['a MemoryError', 'b = bytearray(200 * 1024 * 1024)', { memoryMb: 64 }],
    ['a crashed guest (C stack overflow)', 'import sys\nsys.setrecursionlimit(10**7)\nl = []\nfor i in range(10**6):\n    l = [l]\nrepr(l)', {}],
  ];
  for (const [how, code, limits] of endings) {
    it(`keeps a closed file on the host after ${how}`, async () => {
      const dir = folder();
      const s = await session({ workspace: dir, limits });
      const r = await s.run(`with open("kept.txt", "w") as f:\n    f.write("saved")\nf2 = open("flushed.txt", "w")\nf2.write("flushed")\nf2.flush()\n${code}`);
      expect(r.ok, how).toBe(false);
      await s.close();
      expect(readFileSync(join(dir, 'kept.txt'), 'utf8')).toBe('saved');
      expect(readFileSync(join(dir, 'flushed.txt'), 'utf8')).toBe('flushed');
    });
  }

  it('keeps a closed file on the host when the session is closed mid-cell', async () => {
    const dir = folder();
    const s = await session({ workspace: dir });
    let started!: () => void;
    const written = new Promise<void>((r) => (started = r));
    const run = s.run('with open("kept.txt", "w") as f:\n    f.write("saved")\nheld = open("held.txt", "w")\nprint("written", flush=True)\nwhile True:\n    pass', { onStdout: () => started() });
    await written;
    const intoFolder = () => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    });
    expect(intoFolder().length).toBeGreaterThan(0); // the folder and held.txt are open
    await s.close();
    expect((await run).error?.type).toBe('SessionEnded');
    expect(readFileSync(join(dir, 'kept.txt'), 'utf8')).toBe('saved');
    expect(intoFolder()).toEqual([]); // the ended worker's descriptors are closed
  });

  it('counts against the quota what the folder holds, files the host put there included', async () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'before.bin'), Buffer.alloc(3 << 20));
    const s = await session({ workspace: dir, limits: { workspaceMb: 1 } });
    const r = await s.run('import errno, os\ntry:\n    with open("big", "wb") as f:\n        f.write(b"x" * 1000)\nexcept OSError as e:\n    err = errno.errorcode[e.errno]\n(len(open("before.bin", "rb").read()), err, os.path.exists("big"))');
    expect(r.value).toBe("(3145728, 'ENOSPC', False)"); // readable, but the folder is over its quota already
    expect(existsSync(join(dir, 'big'))).toBe(false);
    expect((await s.run('os.remove("before.bin")\nopen("small", "w").write("x" * 1000)')).value).toBe('1000');
  });

  it('sets times with os.utime; shutil.copy2 keeps them, on the host file too', async () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'src.txt'), 'data');
    const s = await session({ workspace: dir });
    const r = await s.run('import os, shutil\nos.utime("src.txt", (1_000_000_000, 1_234_567_890))\nst = os.stat("src.txt")\nshutil.copy2("src.txt", "dst.txt")\n(st.st_atime, st.st_mtime, os.stat("dst.txt").st_mtime, open("dst.txt").read())');
    expect(r.value).toBe("(1000000000.0, 1234567890.0, 1234567890.0, 'data')");
    expect(statSync(join(dir, 'dst.txt')).mtimeMs).toBe(1_234_567_890_000);
    expect(statSync(join(dir, 'src.txt')).mtimeMs).toBe(1_234_567_890_000);
    // A time to the microsecond, and "now" (os.utime with no times, as Path.touch does).
    const ns = await s.run('os.utime("dst.txt", ns=(5, 1_600_000_000_123_456_000))\nbefore = os.stat("dst.txt").st_mtime_ns\nos.utime("dst.txt")\n(abs(before - 1_600_000_000_123_456_000) < 1000, os.stat("dst.txt").st_mtime > 1.7e9)');
    expect(ns.value).toBe('(True, True)');
  });
});

describe('honest file system calls (in-memory workspace)', () => {
  it('sets times with os.utime and keeps them through shutil.copy2', async () => {
    const s = await session();
    const now = await s.run('import os, time\nopen("t", "w").close()\nos.utime("t", (1, 2))\nos.utime("t")\nabs(os.stat("t").st_mtime - time.time()) < 60');
    expect(now.value).toBe('True');
    const r = await s.run('import os, shutil\nopen("a", "w").write("x")\nos.utime("a", ns=(1_000_000_000_000_000_001, 1_234_567_890_123_456_789))\nshutil.copy2("a", "b")\nst = os.stat("b")\n(st.st_atime_ns, st.st_mtime_ns, os.stat("a").st_mtime_ns)');
    expect(r.value).toBe('(1000000000000000001, 1234567890123456789, 1234567890123456789)');
    const dir = await s.run('os.mkdir("d")\nos.utime("d", (7, 8))\nos.stat("d").st_mtime');
    expect(dir.value).toBe('8.0');
  });

  it('fails with a clear OSError where it cannot do what is asked', async () => {
    const s = await session();
    const r = await s.run('import os, errno\nout = []\nfor f in [lambda: os.utime("/lib/python311.zip", (1, 1)), lambda: os.link("a", "b"), lambda: os.symlink("a", "b"), lambda: os.utime("missing", (1, 1))]:\n    try:\n        f()\n        out.append("ok")\n    except OSError as e:\n        out.append(errno.errorcode[e.errno])\nopen("a", "w").close()\nout');
    expect(r.value).toBe("['EROFS', 'EPERM', 'EPERM', 'ENOENT']");
  });
});

describe('a closed session\'s thread serves the next session', () => {
  it('with nothing of the previous session in it: globals, modules, files, descriptors', async () => {
    const g = await loadGuest(await testGuestDir(), { warm: 0 });
    try {
      const a = await g.createSession();
      await a.run('secret = 41\nimport sys\nsys.path.insert(0, ".")\nopen("mymod.py", "w").write("V = 1")\nimport mymod\nkept = open("mymod.py")');
      const thread = (a as unknown as { handle: { worker: { threadId: number } } }).handle.worker.threadId;
      await a.close();
      const b = await g.createSession();
      expect((b as unknown as { handle: { worker: { threadId: number } } }).handle.worker.threadId).toBe(thread); // the same thread
      const r = await b.run('import os, sys\n("secret" in globals(), "mymod" in sys.modules, os.listdir("."), "." in sys.path)');
      expect(r.value).toBe('(False, False, [], False)');
      expect((await b.run('6 * 7')).value).toBe('42');
      const worker = (b as unknown as { handle: { worker: { listenerCount(e: string): number } } }).handle.worker;
      await b.close();
      // Recycled again and again, the thread gains no listeners.
      const exits = worker.listenerCount('exit');
      for (let i = 0; i < 12; i++) await (await g.createSession()).close();
      expect(worker.listenerCount('exit')).toBe(exits);
    } finally {
      await g.close();
    }
  });
});

describe('sessions are independent', () => {
  it('share no globals, files or randomness', async () => {
    const [a, b] = await Promise.all([session(), session()]);
    await a.run('secret = 42\nopen("mine.txt", "w").write("a")');
    const r = await b.run('import os\n("secret" in globals(), os.listdir("."))');
    expect(r.value).toBe('(False, [])');
    const ra = await a.run('import random\nrandom.getrandbits(64)');
    const rb = await b.run('import random\nrandom.getrandbits(64)');
    expect(ra.value).not.toBe(rb.value);
  });

  it('run cells of many sessions at once', async () => {
    const handlers: Handlers = { slow: async ({ tag }: { tag: string }) => tag };
    const sessions = await Promise.all(Array.from({ length: 8 }, () => session({ handlers })));
    const results = await Promise.all(sessions.map((s, i) => s.run(`tools.slow(1, tag="s${i}")`)));
    expect(results.map((r) => r.value)).toEqual(sessions.map((_, i) => `'s${i}'`));
  });
});

describe('namespaced builds', () => {
  it('route calls to `namespace.name` handlers, and fall back to the bare name', async () => {
    const { build } = await import('../compiler/build.js');
    const dir = mkdtempSync(join(tmpdir(), 'tic-ns-session-'));
    for (const ns of ['a', 'b']) writeFileSync(join(dir, `${ns}.json`), JSON.stringify({ tools: [{ name: 'search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } }, { name: `only_${ns}`, inputSchema: { type: 'object', properties: {} } }] }));
    await build({ inputs: [join(dir, 'a.json'), join(dir, 'b.json')], outDir: join(dir, 'dist'), log: () => {} });
    const g = await loadGuest(join(dir, 'dist'), { warm: 0 });
    const s = await g.createSession({ handlers: { 'a.search': ({ q }: { q: string }) => `a:${q}`, 'b.search': ({ q }: { q: string }) => `b:${q}`, only_b: () => 'bare' } });
    closeAfter(s);
    const r = await s.run('(tools.a.search(q="x"), tools.b.search(q="y"), tools.b.only_b())');
    expect(r.value).toBe("('a:x', 'b:y', 'bare')");
    expect(r.toolCalls.map((c) => `${c.namespace}.${c.name}`)).toEqual(['a.search', 'b.search', 'b.only_b']);
  });
});
