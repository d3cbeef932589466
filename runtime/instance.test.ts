import { describe, expect, it } from 'vitest';
import { guestImage } from '../test-setup/guest.js';
import { GuestCrash, GuestInstance } from './instance.js';

async function fresh(kind: 'snapshot' | 'core' = 'snapshot') {
  return new GuestInstance(await guestImage(kind));
}

describe('a cell', () => {
  it('prints to stdout, streamed through the hook before the cell returns', async () => {
    const g = await fresh();
    const seen: string[] = [];
    const r = g.run('for i in range(3):\n    print("line", i)', { onStdout: (t) => seen.push(t) });
    expect(r.ok).toBe(true);
    expect(r.stdout).toBe('line 0\nline 1\nline 2\n');
    // line-buffered: one write per line, not one blob at the end
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.join('')).toBe(r.stdout);
  });

  it('writes to stderr separately from stdout', async () => {
    const g = await fresh();
    const r = g.run('import sys\nprint("out")\nprint("warn", file=sys.stderr)');
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('warn\n');
  });

  it('returns the value of a final expression like a notebook, and none for a statement', async () => {
    const g = await fresh();
    expect(g.run('x = 2').value).toBeUndefined();
    expect(g.run('x * 21').value).toBe('42');
    expect(g.run('"a" + "b"').value).toBe("'ab'");
    expect(g.run('None').value).toBeUndefined();
    expect(g.run('print("p")').value).toBeUndefined();
  });

  it('keeps globals, functions and imports across cells of one guest, not across guests', async () => {
    const g = await fresh();
    g.run('import math\ndef area(r):\n    return math.pi * r * r\ncount = 1');
    g.run('count += 1');
    expect(g.run('round(area(2), 3), count').value).toBe('(12.566, 2)');
    const other = await fresh();
    const r = other.run('count');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toBe('NameError');
  });

  it("runs in the __main__ module, as a script does: unittest.main(), pickle of a cell's class and doctest find what cells define", async () => {
    const g = await fresh();
    g.run('from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int\n    y: int');
    expect(g.run('import pickle\npickle.loads(pickle.dumps(Point(1, 2)))').value).toBe('Point(x=1, y=2)');
    const t = g.run('import unittest\nclass TestPoint(unittest.TestCase):\n    def test_x(self):\n        self.assertEqual(Point(3, 4).x, 3)\nunittest.main(argv=["cell"], exit=False)');
    expect(t.stderr).toMatch(/Ran 1 test/);
    const d = g.run('def double(n):\n    """\n    >>> double(21)\n    42\n    """\n    return n * 2\nimport doctest\ndoctest.testmod()');
    expect(d.value).toBe('TestResults(failed=0, attempted=1)');
    expect(g.run('import sys\nsys.modules["__main__"].Point is Point').value).toBe('True');
  });

  it('recurses as deep as native CPython 3.11 does (limit 1000), and past that raises RecursionError instead of ending the guest', async () => {
    const g = await fresh();
    const r = g.run(`import sys, functools
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)
class Node:
    def __init__(self, n):
        self.child = Node(n - 1) if n else None
@functools.lru_cache(None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
def key_chain(n):
    return sorted([n], key=lambda v: key_chain(v - 1) if v else 0)[0] if n else 0
def outcome(f, *a):
    try:
        f(*a)
        return "ok"
    except RecursionError:
        return "RecursionError"
(sys.getrecursionlimit(), outcome(depth, 990), outcome(Node, 480), outcome(fib, 480), outcome(depth, 1200), outcome(Node, 900), outcome(key_chain, 450))`);
    expect(r.error?.traceback).toBeUndefined();
    // What /usr/bin/python3.11 prints for the same cell.
    expect(r.value).toBe("(1000, 'ok', 'ok', 'ok', 'RecursionError', 'RecursionError', 'RecursionError')");
    expect(g.run('1 + 1').value).toBe('2');
  });

  it('imports snapshotted stdlib modules and zlib', async () => {
    const g = await fresh();
    const r = g.run(
      'import sys, zlib, json, re, gzip, zipfile, io\n' +
        'print(sys.version_info[:2], zlib.crc32(b"x"))\n' +
        'buf = io.BytesIO()\n' +
        'with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z: z.writestr("a.txt", "hello " * 100)\n' +
        'print(zipfile.ZipFile(buf).read("a.txt")[:11], len(gzip.decompress(gzip.compress(b"abc"))))',
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe("(3, 11) 2363233923\nb'hello hello' 3\n");
  });

  it('imports a module that is not in the snapshot from the stdlib archive', async () => {
    const g = await fresh();
    const r = g.run(
      'import sys\nbefore = "colorsys" in sys.modules\nimport colorsys\n' +
        '(before, colorsys.__file__, colorsys.rgb_to_hsv(1.0, 0.0, 0.0))',
    );
    expect(r.error).toBeUndefined();
    expect(r.value).toBe("(False, '/lib/python311.zip/colorsys.pyc', (0.0, 1.0, 1.0))");
  });

  it('reports an exception as type, message and a traceback of the cell alone', async () => {
    const g = await fresh();
    const r = g.run('def f(d):\n    return d["missing"]\n\nf({})');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toBe('KeyError');
    expect(r.error?.message).toBe("'missing'");
    const tb = r.error!.traceback;
    expect(tb).toMatch(/^Traceback \(most recent call last\):\n/);
    expect(tb).toContain('File "<cell-1>", line 4, in <module>');
    expect(tb).toContain('File "<cell-1>", line 2, in f');
    expect(tb).toContain('return d["missing"]'); // source lines quoted
    expect(tb).not.toContain('_tic'); // no frame of the runtime itself
    expect(tb.trimEnd().split('\n').pop()).toBe("KeyError: 'missing'");
  });

  it('reports a syntax error with its location, and the guest goes on', async () => {
    const g = await fresh();
    const r = g.run('x = 1\nif x\n    pass');
    expect(r.error?.type).toBe('SyntaxError');
    expect(r.error?.traceback).toContain('File "<cell-1>", line 2');
    expect(g.run('1 + 1').value).toBe('2');
  });

  it('qualifies non-builtin exception types by module', async () => {
    const g = await fresh();
    const r = g.run('import json\njson.loads("{")');
    expect(r.error?.type).toBe('json.decoder.JSONDecodeError');
  });

  it('keeps output printed before an exception', async () => {
    const g = await fresh();
    const r = g.run('print("before")\nraise ValueError("bad")');
    expect(r.stdout).toBe('before\n');
    expect(r.error).toMatchObject({ type: 'ValueError', message: 'bad' });
  });

  it('treats sys.exit in a cell as an error of that cell, not the end of the guest', async () => {
    const g = await fresh();
    expect(g.run('import sys; sys.exit(3)').error?.type).toBe('SystemExit');
    expect(g.run('6 * 7').value).toBe('42');
  });

  it('ends the guest cleanly when it calls os._exit', async () => {
    const g = await fresh();
    expect(() => g.run('import os; os._exit(5)')).toThrow(/exited \(code 5\)/);
    expect(() => g.run('1')).toThrow(GuestCrash);
  });

  it('round-trips unicode in source, output and values', async () => {
    const g = await fresh();
    const r = g.run('s = "héllo ✓ 🐍"\nprint(s)\ns');
    expect(r.stdout).toBe('héllo ✓ 🐍\n');
    expect(r.value).toBe("'héllo ✓ 🐍'");
  });

  it('reaches the host through tic.call; with no tools the host says so', async () => {
    const g = await fresh();
    const r = g.run('import _tic\n_tic.call("search", {"q": "x"})');
    expect(r.error?.type).toBe('_tic.ToolError');
    expect(r.error?.message).toContain('no tool named "search"');
  });

  it('works the same without the snapshot (Python booted at instantiation)', async () => {
    const g = await fresh('core');
    const r = g.run('import sys, zlib\nprint(zlib.crc32(b"x"))\nx = 6\nx * 7');
    expect(r.stdout).toBe('2363233923\n');
    expect(r.value).toBe('42');
  });
});

describe('the guest file system', () => {
  it('has the stdlib read-only and a writable workspace as the cwd', async () => {
    const g = await fresh();
    const r = g.run(
      'import os\n' +
        'with open("notes.txt", "w") as f: f.write("kept")\n' +
        'print(os.getcwd(), open("/workspace/notes.txt").read(), sorted(os.listdir(".")))\n' +
        'try:\n    open("/lib/python311.zip", "r+b")\nexcept OSError as e:\n    print(type(e).__name__, e.errno)',
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe("/workspace kept ['notes.txt']\nOSError 30\n"); // EROFS, numbered as on Linux
  });

  it('sees nothing of the host: no /etc, no way out of the workspace', async () => {
    const g = await fresh();
    const attempts = [
      'open("/etc/passwd").read()',
      'open("../etc/passwd").read()',
      'open("/workspace/../../etc/passwd").read()',
      'import os; os.listdir("/")',
      'import os; os.listdir("/workspace/..")',
      'import os; os.symlink("/etc", "/workspace/etc")',
    ];
    for (const code of attempts) {
      const r = g.run(code);
      expect(r.ok, code).toBe(false);
      expect(['PermissionError', 'FileNotFoundError', 'OSError'], code).toContain(r.error?.type);
    }
  });

  it('has no sockets', async () => {
    const g = await fresh();
    const r = g.run('import socket\nsocket.create_connection(("127.0.0.1", 80))');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toMatch(/Error$/);
  });

  it('seeds random per session, not from the snapshot', async () => {
    const cell = 'import random; random.getrandbits(64)';
    const a = (await fresh()).run(cell).value;
    const b = (await fresh()).run(cell).value;
    expect(a).toMatch(/^\d+$/);
    expect(a).not.toBe(b);
  });

  it('has no host environment variables', async () => {
    const g = await fresh();
    expect(g.run('import os; dict(os.environ)').value).toBe('{}');
  });
});

describe('a value or an error too big to render', () => {
  const capped = async (maxOutputBytes: number) => new GuestInstance(await guestImage(), { maxOutputBytes });
  const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
  const marker = (n: number) => `\n[tooliscode: output truncated after ${n} bytes]`;

  it('cuts a 5-million-item value to the cap, and the session keeps its globals', async () => {
    // The default memory cap of a session: the full repr alone would not fit in it.
    const g = new GuestInstance(await guestImage(), { maxOutputBytes: 1000, memoryLimitBytes: 256 * 1024 * 1024 });
    g.run('x = 7\nbig = list(range(5_000_000))');
    const r = g.run('big');
    expect(r.ok).toBe(true);
    // The real repr's start, then the marker; never more than the cap before it.
    expect(r.value!.endsWith(marker(1000))).toBe(true);
    const head = r.value!.slice(0, -marker(1000).length);
    expect(bytes(head)).toBe(1000);
    expect(head.startsWith('[0, 1, 2, 3, ')).toBe(true);
    expect(g.run('x, len(big), big[-1]').value).toBe('(7, 5000000, 4999999)');
  });

  it('cuts a long string, nested containers and a custom repr the same way, at a character boundary', async () => {
    const g = await capped(10);
    expect(g.run("'v' * 60_000_000").value).toBe(`'vvvvvvvvv${marker(10)}`);
    expect(g.run("{'k': [(1, 'ab')] * 100}").value).toBe(`{'k': [(1,${marker(10)}`);
    expect(g.run("class R:\n    def __repr__(self):\n        return '✓' * 100\nR()").value).toBe(`✓✓✓${marker(10)}`);
    // Up to the cap, nothing changes.
    expect(g.run("'abcdefgh'").value).toBe("'abcdefgh'");
    expect(g.run('l = [1]\nl.append(l)\nl').value).toBe('[1, [...]]');
  });

  it('caps the message and the traceback of an exception the same way', async () => {
    const g = await capped(50);
    const r = g.run("raise ValueError('e' * 10_000_000)");
    expect(r.error?.type).toBe('ValueError');
    expect(r.error?.message).toBe(`${'e'.repeat(50)}${marker(50)}`);
    expect(r.error!.traceback.endsWith(marker(50))).toBe(true);
    expect(bytes(r.error!.traceback)).toBeLessThanOrEqual(50 + bytes(marker(50)));
  });

  it('reports an exception whose __str__ raises, and the session goes on', async () => {
    const g = await fresh();
    g.run('x = 1');
    const r = g.run("class Weird(Exception):\n    def __str__(self):\n        raise RuntimeError('no str')\nraise Weird()");
    expect(r.error?.type).toBe('__main__.Weird');
    expect(r.error?.message).toBe('<exception str() failed>');
    expect(r.error?.traceback).toMatch(/raise Weird\(\)/);
    expect(g.run('x').value).toBe('1');
  });

  it('reports an exception whose traceback cannot be formatted, with its type and message', async () => {
    const g = await fresh();
    const r = g.run("class P(Exception):\n    @property\n    def __notes__(self):\n        raise RuntimeError('no notes')\nraise P('m')");
    expect(r.error).toEqual({ type: '__main__.P', message: 'm', traceback: '__main__.P: m\n(the traceback could not be formatted: RuntimeError)\n' });
    expect(g.run('2 + 2').value).toBe('4');
  });

  it('reports a value whose __repr__ raises as the error of the cell, and the session goes on', async () => {
    const g = await fresh();
    const r = g.run("class Bad:\n    def __repr__(self):\n        raise KeyError('no repr')\nBad()");
    expect(r.error?.type).toBe('KeyError');
    expect(g.run('1 + 1').value).toBe('2');
  });

  it('sends text the host can decode: a lone surrogate in a value or message comes back escaped', async () => {
    const g = await fresh();
    expect(g.run("class S:\n    def __repr__(self):\n        return 'a\\ud800'\nS()").value).toBe('a\\ud800');
    expect(g.run("raise ValueError('\\udc80')").error?.message).toBe('\\udc80');
  });

  it('refuses, unread, a result the guest runtime did not cap, and the session goes on', async () => {
    const g = await capped(100);
    g.run('x = 3');
    // A cell that replaces the runtime's own cell runner: what it returns is not capped.
    g.run("import _tic\n_run = _tic.run_cell\n_tic.run_cell = lambda s: 'x' * 10_000_000 if s == 'huge' else _run(s)");
    const r = g.run('huge');
    expect(r.ok).toBe(false);
    expect(r.error?.type).toBe('ResultTooLarge');
    expect(g.run('x').value).toBe('3');
  });

  it('fails a cell whose runner returns something that is not a result, and the session goes on', async () => {
    const g = await fresh();
    g.run("import _tic\n_run = _tic.run_cell\n_tic.run_cell = lambda s: {'bad': '[1]', 'none': None}.get(s, 0) if s in ('bad', 'none') else _run(s)");
    expect(g.run('bad').error?.type).toBe('MalformedResult');
    expect(g.run('none').error?.type).toBe('RuntimeError');
    expect(g.run('2 * 3').value).toBe('6');
  });
});

describe('a guest whose memory is full', () => {
  it('fails a cell whose source does not fit in, without writing it anywhere, and goes on once memory is freed', async () => {
    const g = new GuestInstance(await guestImage(), { memoryLimitBytes: 64 << 20 });
    // Fills the heap to its cap: after this, not even 1 MiB is left in one piece.
    g.run('x = 1\nxs = []\ntry:\n    while True:\n        xs.append(bytearray(1 << 20))\nexcept MemoryError:\n    pass');
    const big = `#${'y'.repeat(8 << 20)}\nx`;
    expect(g.run(big).error?.type).toBe('MemoryError');
    expect(g.run('del xs\nx').value).toBe('1');
    expect(g.run(big).value).toBe('1');
  });
});

describe('the output cap', () => {
  const capped = async (maxOutputBytes: number) => new GuestInstance(await guestImage(), { maxOutputBytes });

  it('counts UTF-8 bytes and never splits a character', async () => {
    const g = await capped(7);
    // '✓' is 3 bytes: two fit in 7, the third would cross the cap.
    expect(g.run("print('✓✓✓✓')").stdout).toBe('✓✓\n[tooliscode: output truncated after 7 bytes]\n');
  });

  it('drops a character split across two writes whole, with no replacement character', async () => {
    const g = await capped(5);
    const r = g.run("import sys\nb = '✓✓'.encode()\nsys.stdout.buffer.write(b[:4])\nsys.stdout.buffer.flush()\nsys.stdout.buffer.write(b[4:] + b'more')\nsys.stdout.buffer.flush()");
    expect(r.stdout).toBe('✓\n[tooliscode: output truncated after 5 bytes]\n');
  });

  it('marks output that fills the cap exactly and goes on, and a cap of 0, once', async () => {
    expect((await capped(4)).run("print('abc')\nprint('d')").stdout).toBe('abc\n\n[tooliscode: output truncated after 4 bytes]\n');
    expect((await capped(4)).run("print('abc')").stdout).toBe('abc\n');
    const zero = (await capped(0)).run("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')");
    expect(zero.stdout + zero.stderr).toBe('\n[tooliscode: output truncated after 0 bytes]\n');
  });
});
