// A hostile cell against the workspace, as an attacker would write it: what it makes the
// host hold (memory, disk, descriptors) stays inside its session's limits, the calls the
// runtime cannot honour say so, and ids cannot lead a session out of the workspace root.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sessions } from '../serve/sessions.js';
import { testSessions } from '../test-setup/session.js';
import { WorkspaceError, checkWorkspaceId, openWorkspace } from './workspace.js';

const MB = 1024 * 1024;

const { guest: testGuest, session } = testSessions({ warm: 1 });

const folder = () => mkdtempSync(join(tmpdir(), 'tic-hostile-fs-'));

/** Bytes of the files directly in `dir` (what the host's disk holds under its names). */
const bytesIn = (dir: string) => readdirSync(dir).reduce((n, name) => n + statSync(join(dir, name)).size, 0);

// Opens files until the guest is refused; returns (errno name, how many it got).
const HOARD_FILES = `import errno
held = []
try:
    while True:
        held.append(open(f"h{len(held)}", "w"))
except OSError as e:
    got = (errno.errorcode[e.errno], len(held))
got`;

// Keeps a file open, deletes it, and goes again: bytes only the open descriptors reach.
const HOLD_DELETED = (bytes: number) => `import os, errno
kept = []
try:
    for i in range(100):
        f = open(f"d{i}", "wb")
        kept.append(f)
        f.write(b"x" * ${bytes})
        f.flush()
        os.remove(f"d{i}")
    out = "no limit"
except OSError as e:
    out = (errno.errorcode[e.errno], len(kept))
out`;

describe('the in-memory workspace counts what it makes the host hold', () => {
  it('a file deleted while open counts until closed; truncation gives its bytes back', async () => {
    const s = await session({ limits: { workspaceMb: 10 } });
    expect((await s.run(HOLD_DELETED(3 * MB))).value).toBe("('ENOSPC', 4)");
    const after = await s.run('for f in kept: f.close()\nopen("big", "wb").write(b"y" * 9_000_000)');
    expect(after.ok).toBe(true);
    // Truncating and rewriting a 9 MB file over and over stays within 10 MB.
    const churn = await s.run('with open("big", "r+b") as f:\n    for i in range(20):\n        f.truncate(0)\n        f.seek(0)\n        f.write(b"z" * 9_000_000)\n        f.flush()\nos.path.getsize("big")');
    expect(churn.value).toBe('9000000');
  });

  it('200 half-read scandir iterators over a 20,000-file folder cost the host little', async () => {
    const s = await session();
    await s.run('import os\nos.mkdir("wide")\nfor i in range(20_000):\n    open(f"wide/file-{i:05}", "w").close()');
    const before = process.memoryUsage().rss;
    const r = await s.run('its = [os.scandir("wide") for _ in range(200)]\nfirst = [next(it).name for it in its]\n(len(first), len(set(first)))');
    expect(r.value).toBe('(200, 1)');
    // Copied per descriptor, the listings were 200 x 20,000 entries on the host (hundreds of MB).
    expect(process.memoryUsage().rss - before).toBeLessThan(150 * MB);
    expect((await s.run('for it in its: it.close()\nlen(os.listdir("wide"))')).value).toBe('20000');
  });
});

describe('descriptors are partitioned: one session cannot take the process\'s', () => {
  it('a guest gets EMFILE past its cap; another session, in memory or on a folder, still opens files', async () => {
    const a = await session();
    const hoard = await a.run(HOARD_FILES);
    expect(hoard.value).toMatch(/^\('EMFILE', 2[0-9]{2}\)$/);
    const b = await session({ workspace: join(folder(), 'b') });
    const hoardB = await b.run(HOARD_FILES);
    expect(hoardB.value).toMatch(/^\('EMFILE', 2[0-9]{2}\)$/);
    // Both still hold everything they opened; a third session is unaffected.
    const c = await session({ workspace: join(folder(), 'c') });
    expect((await c.run('open("x", "w").write("ok")\nopen("x").read()')).value).toBe("'ok'");
    // Half-read folders are descriptors too, and count against the same cap.
    const d = await session({ workspace: join(folder(), 'd') });
    const dirs = await d.run('import os, errno\nos.mkdir("sub")\nits = []\ntry:\n    while True:\n        it = os.scandir("sub")\n        its.append(it)\nexcept OSError as e:\n    r = (errno.errorcode[e.errno], len(its))\nr');
    expect(dirs.value).toMatch(/^\('EMFILE', 2[0-9]{2}\)$/);
    expect((await a.run('for f in held: f.close()\nopen("again", "w").close()')).ok).toBe(true);
  });
});

describe('a host folder\'s quota is true', () => {
  it('files deleted or replaced while open stay counted: a 1 MB quota holds no more than 1 MB on disk', async () => {
    const dir = join(folder(), 'ws');
    const s = await session({ workspace: dir, limits: { workspaceMb: 1 } });
    expect((await s.run(HOLD_DELETED(400_000))).value).toBe("('ENOSPC', 3)");
    const replaced = await s.run('for f in kept: f.close()\nkeep = open("a", "wb")\nkeep.write(b"1" * 600_000)\nkeep.flush()\nopen("b", "wb").close()\nos.replace("b", "a")\ntry:\n    open("c", "wb").write(b"2" * 600_000)\n    r = "wrote"\nexcept OSError as e:\n    r = errno.errorcode[e.errno]\nkeep.close()\nr');
    expect(replaced.value).toBe("'ENOSPC'");
    expect(bytesIn(dir)).toBeLessThanOrEqual(MB);
  });

  it('a folder keeps its usage across sessions: six restarts cannot put 6 MB in a 1 MB folder', async () => {
    const dir = join(folder(), 'ws');
    for (let restart = 0; restart < 6; restart++) {
      const s = await session({ workspace: dir, limits: { workspaceMb: 1 } });
      await s.run(`try:\n    open("part${restart}", "wb").write(b"x" * 900_000)\nexcept OSError:\n    pass\nimport os\nos._exit(0)`);
      await s.close();
    }
    expect(bytesIn(dir)).toBeLessThanOrEqual(MB);
    expect(readdirSync(dir).filter((n) => statSync(join(dir, n)).size > 0)).toEqual(['part0']);
  });

  it('files the host put in the folder count from the start', async () => {
    const dir = join(folder(), 'ws');
    mkdirSync(dir);
    writeFileSync(join(dir, 'host.bin'), Buffer.alloc(700_000));
    const s = await session({ workspace: dir, limits: { workspaceMb: 1 } });
    const r = await s.run('import errno\ntry:\n    open("more", "wb").write(b"x" * 400_000)\n    r = "wrote"\nexcept OSError as e:\n    r = errno.errorcode[e.errno]\nr');
    expect(r.value).toBe("'ENOSPC'");
  });
});

describe('no silent success', () => {
  it('os.access tells the truth about /lib, the workspace and missing paths; writing /lib fails at open', async () => {
    const s = await session();
    const r = await s.run('import os\n(os.access("/lib", os.W_OK), os.access("/lib/python311.zip", os.W_OK), os.access("/lib", os.R_OK), os.access("/workspace", os.W_OK), os.access("missing", os.F_OK), os.access("missing", os.W_OK))');
    expect(r.value).toBe('(False, False, True, True, False, False)');
    const w = await s.run('import errno\nout = []\nfor mode in ["w", "r+b", "ab"]:\n    try:\n        open("/lib/python311.zip", mode)\n        out.append("opened")\n    except OSError as e:\n        out.append(errno.errorcode[e.errno])\nout');
    expect(w.value).toBe("['EROFS', 'EROFS', 'EROFS']");
    expect((await s.run('try:\n    os.utime("missing")\nexcept FileNotFoundError:\n    r = "FileNotFoundError"\nr')).value).toBe("'FileNotFoundError'");
    // chmod keeps no mode bits (WASI has none) but never succeeds silently where it cannot.
    const chmod = await s.run('out = []\nopen("here", "w").close()\nfor p in ["missing", "/lib/python311.zip", "here"]:\n    try:\n        os.chmod(p, 0o600)\n        out.append("ok")\n    except OSError as e:\n        out.append(errno.errorcode[e.errno])\nout');
    expect(chmod.value).toBe("['ENOENT', 'EROFS', 'ok']");
  });
});

describe('ids cannot leave the workspace root', () => {
  const bad = ['', '.', '..', 'a/b', '../x', 'a\\b', 'a\0b', '/abs', 'x'.repeat(129), 'é'];

  it('one validator refuses each, naming what is wrong', () => {
    for (const id of bad) expect(() => checkWorkspaceId(id, 'conversation id'), JSON.stringify(id)).toThrow(WorkspaceError);
    expect(() => checkWorkspaceId('..', 'conversation id')).toThrow(/conversation id "\.\.": would name the workspace root or its parent/);
    expect(() => checkWorkspaceId('x'.repeat(200), 'session id')).toThrow(/is 200 characters long \(at most 128\)/);
    expect(() => checkWorkspaceId('a/b', 'session id')).toThrow(/no path separators/);
    expect(checkWorkspaceId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(checkWorkspaceId('conv-1.2_b')).toBe('conv-1.2_b');
  });

  it('serve\'s sessions refuse them too', () => {
    const sessions = new Sessions({ guest: testGuest(), handlers: {}, workspaceRoot: folder(), idleTimeoutMs: Number.POSITIVE_INFINITY });
    for (const id of bad) expect(() => sessions.open(id), JSON.stringify(id)).toThrow(/session id/);
    expect(sessions.size).toBe(0);
  });

  it('a link planted at ROOT/<id> is never followed, at creation or at a restart', async () => {
    const root = folder();
    const outside = folder();
    symlinkSync(outside, join(root, 'victim'));
    expect(() => openWorkspace(join(root, 'victim'), { limit: MB, used: 0 })).toThrow(/is a symbolic link; it is never followed/);
    await expect(session({ workspace: join(root, 'victim') })).rejects.toThrow(/symbolic link/);
    writeFileSync(join(root, 'file'), 'x');
    expect(() => openWorkspace(join(root, 'file'), { limit: MB, used: 0 })).toThrow(/is not a folder/);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(root, 'victim')).isSymbolicLink()).toBe(true);
    // A link in the root's own path is the embedder's: followed, as before.
    symlinkSync(root, join(outside, 'root-link'));
    const mount = openWorkspace(join(outside, 'root-link', 'fresh'), { limit: MB, used: 0 });
    mount.close();
    expect(statSync(join(root, 'fresh')).isDirectory()).toBe(true);
  });
});
