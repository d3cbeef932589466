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
    expect(r.stdout).toBe("/workspace kept ['notes.txt']\nOSError 69\n");
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
