// The standard library a data cell expects: time zones, SQLite, bz2 and lzma, in real
// sessions of a built guest.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGuestDir } from '../test-setup/session.js';
import { buildGuest } from './build/index.js';
import { type Guest, loadGuest } from '../runtime/guest.js';
import type { Session } from '../runtime/session.js';

let guest: Guest;
const open: Session[] = [];
const hostTz = process.env.TZ;

beforeAll(async () => {
  // A host zone far from UTC: nothing of it may reach the guest.
  process.env.TZ = 'America/New_York';
  guest = await loadGuest(await testGuestDir(), { warm: 0 });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await guest.close();
  if (hostTz === undefined) delete process.env.TZ;
  else process.env.TZ = hostTz;
});

async function session(options: Parameters<Guest['createSession']>[0] = {}): Promise<Session> {
  const s = await guest.createSession(options);
  open.push(s);
  return s;
}

async function value(s: Session, code: string): Promise<string | undefined> {
  const r = await s.run(code);
  if (!r.ok) throw new Error(`${r.error?.type}: ${r.error?.message}\n${r.error?.traceback}`);
  return r.value;
}

describe('time zones', () => {
  it('converts across zones with the IANA rules, daylight saving included', async () => {
    const s = await session();
    const v = await value(
      s,
      [
        'from datetime import datetime, timezone',
        'from zoneinfo import ZoneInfo',
        'utc = datetime(2024, 7, 1, 12, 0, tzinfo=timezone.utc)',
        'win = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)',
        'zones = [str(utc.astimezone(ZoneInfo(z))) for z in ("Europe/Oslo", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")]',
        'zones + [str(win.astimezone(ZoneInfo("Europe/Oslo"))), ZoneInfo("Europe/Oslo").tzname(win)]',
      ].join('\n'),
    );
    expect(v).toBe(
      "['2024-07-01 14:00:00+02:00', '2024-07-01 08:00:00-04:00', '2024-07-01 17:30:00+05:30', '2024-07-01 22:30:00+10:30', '2024-01-15 13:00:00+01:00', 'CET']",
    );
  });

  it('lists the database, reports its version (the one recorded for the build) and rejects unknown zones', async () => {
    const s = await session();
    const base = await buildGuest({ log: () => {} });
    const v = await value(s, 'import zoneinfo, tzdata\nz = zoneinfo.available_timezones()\n(len(z) > 400, "Europe/Oslo" in z, "UTC" in z, tzdata.IANA_VERSION)');
    expect(v).toBe(`(True, True, True, '${base.info.tzdata}')`);
    expect(base.info.tzdata).toMatch(/^20\d\d[a-z]$/);
    const r = await s.run('import zoneinfo\nzoneinfo.ZoneInfo("Mars/Olympus_Mons")');
    expect(r.error?.type).toBe('zoneinfo._common.ZoneInfoNotFoundError');
  });

  it('keeps UTC as the local zone whatever the host is set to', async () => {
    expect(new Date(Date.UTC(2024, 6, 1, 12)).getHours()).toBe(8); // the host side is in New York
    const s = await session();
    const v = await value(
      s,
      'import time, datetime, os\n(time.tzname, time.timezone, time.localtime(0).tm_hour, str(datetime.datetime(2024, 7, 1, 12).astimezone().utcoffset()), os.environ.get("TZ"))',
    );
    expect(v).toBe("(('UTC', 'UTC'), 0, 0, '0:00:00', None)");
  });
});

describe('sqlite3', () => {
  it('runs SQL in memory', async () => {
    const s = await session();
    const v = await value(
      s,
      [
        'import sqlite3',
        'db = sqlite3.connect(":memory:")',
        'db.execute("create table t (k text primary key, n integer)")',
        'db.executemany("insert into t values (?, ?)", [("a", 1), ("b", 2), ("c", 3)])',
        'db.execute("select group_concat(k), sum(n), json_object(\'x\', max(n)) from t where n > 1").fetchone()',
      ].join('\n'),
    );
    expect(v).toBe('(\'b,c\', 5, \'{"x":3}\')');
  });

  it('keeps a database file in /workspace that the host can open, across connections and cells', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'tic-sqlite-'));
    const s = await session({ workspace: ws });
    await value(s, 'import sqlite3\nwith sqlite3.connect("data.db") as db:\n    db.execute("create table t (x)")\n    db.executemany("insert into t values (?)", [(i,) for i in range(100)])\ndb.close()');
    expect(await value(s, 'db = sqlite3.connect("/workspace/data.db")\ndb.execute("select count(*), sum(x) from t").fetchone()')).toBe('(100, 4950)');
    // A second connection waits for the first one's write lock (one writer at a time).
    const locked = await value(
      s,
      [
        'db.execute("begin immediate")',
        'db.execute("insert into t values (100)")',
        'other = sqlite3.connect("data.db", timeout=0)',
        'try:',
        '    other.execute("insert into t values (-1)")',
        '    res = "no lock"',
        'except sqlite3.OperationalError as e:',
        '    res = str(e)',
        'db.commit()',
        'other.execute("insert into t values (101)"); other.commit(); other.close(); db.close()',
        'res',
      ].join('\n'),
    );
    expect(locked).toBe("'database is locked'");
    await s.close();
    expect(existsSync(join(ws, 'data.db'))).toBe(true);
    const native = spawnSync('/usr/bin/python3.11', ['-c', 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*), max(x) from t").fetchone())', join(ws, 'data.db')], { encoding: 'utf8' });
    expect(native.stdout.trim()).toBe('(102, 101)');
  });
});

describe('bz2 and lzma', () => {
  it('compress and decompress, in memory and through files', async () => {
    const s = await session();
    const v = await value(
      s,
      [
        'import bz2, lzma',
        'data = b"tooliscode " * 10_000',
        'b, x = bz2.compress(data), lzma.compress(data)',
        'with lzma.open("d.xz", "wt") as f: f.write("line\\n" * 3)',
        'with bz2.open("d.bz2", "wb") as f: f.write(data)',
        '(bz2.decompress(b) == data, lzma.decompress(x) == data, len(b) < 1000, len(x) < 1000,',
        ' lzma.open("d.xz", "rt").read(), bz2.open("d.bz2").read() == data, lzma.decompress(lzma.compress(data, format=lzma.FORMAT_ALONE)) == data)',
      ].join('\n'),
    );
    expect(v).toBe("(True, True, True, True, 'line\\nline\\nline\\n', True, True)");
  });
});

describe('home', () => {
  it('is the workspace: Path.home() and ~ paths land there, with the environment still empty', async () => {
    const s = await session();
    const v = await value(
      s,
      [
        'import os',
        'from pathlib import Path',
        '(Path.home() / "notes.txt").write_text("hi")',
        '(str(Path.home()), os.path.expanduser("~/a.csv"), os.path.expanduser(b"~"), os.path.expanduser("~root"), open("notes.txt").read(), sorted(os.environ))',
      ].join('\n'),
    );
    expect(v).toBe("('/workspace', '/workspace/a.csv', b'/workspace', '~root', 'hi', [])");
  });
});

describe('errno', () => {
  it("numbers errors as native CPython on Linux does, and the guest's own ENOTCAPABLE apart", async () => {
    // The whole errno module against Debian's python3.11 (x86-64 Linux): every name both
    // have, the same number (wasi-libc's own are different: ENOENT is 44 there).
    const script = 'import errno, json; print(json.dumps({n: getattr(errno, n) for n in dir(errno) if n[0] == "E"}))';
    const native = JSON.parse(spawnSync('/usr/bin/python3.11', ['-c', script], { encoding: 'utf8' }).stdout) as Record<string, number>;
    const s = await session();
    const printed = await s.run(script);
    expect(printed.error).toBeUndefined();
    const guestCodes = JSON.parse(printed.stdout) as Record<string, number>;
    const shared = Object.keys(guestCodes).filter((n) => n in native);
    expect(shared.length).toBeGreaterThan(70);
    expect(shared.filter((n) => guestCodes[n] !== native[n])).toEqual([]);
    expect(Object.keys(guestCodes).filter((n) => !(n in native))).toEqual(['ENOTCAPABLE']);

    // What a cell prints, and what it compares, as on Linux.
    const r = await s.run(
      [
        'import errno, os',
        'for f in (lambda: open("missing.txt"), lambda: os.mkdir("."), lambda: open("/lib/python311.zip", "r+b"), lambda: open("/etc/passwd")):',
        '    try:',
        '        f()',
        '    except OSError as e:',
        '        print(type(e).__name__, e.errno, errno.errorcode[e.errno], e.errno == getattr(errno, errno.errorcode[e.errno]), e)',
        'print(os.strerror(errno.ENOENT), type(OSError(2, "x")).__name__, type(OSError(errno.EACCES, "x")).__name__, errno.ENOTCAPABLE)',
        'print(errno.errorcode[errno.EPIPE], type(OSError(errno.ESHUTDOWN, "x")).__name__)',
      ].join('\n'),
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(
      [
        "FileNotFoundError 2 ENOENT True [Errno 2] No such file or directory: 'missing.txt'",
        "FileExistsError 17 EEXIST True [Errno 17] File exists: '.'",
        "OSError 30 EROFS True [Errno 30] Read-only file system: '/lib/python311.zip'",
        "PermissionError 76 ENOTCAPABLE True [Errno 76] Capabilities insufficient: '/etc/passwd'",
        'No such file or directory FileNotFoundError PermissionError 76',
        'EPIPE BrokenPipeError',
        '',
      ].join('\n'),
    );
  });
});

describe('network', () => {
  it('is absent and says so: lookups and connections raise ENETUNREACH, urllib reports it, the host is localhost', async () => {
    const s = await session();
    const r = await s.run(
      [
        'import errno, socket, urllib.request, urllib.error, email.utils',
        'out = []',
        'for f in (lambda: socket.create_connection(("example.com", 80)), lambda: socket.gethostbyname("example.com"), lambda: socket.getaddrinfo("example.com", 443)):',
        '    try:',
        '        f()',
        '    except OSError as e:',
        '        out.append((type(e).__name__, errno.errorcode[e.errno]))',
        'try:',
        '    urllib.request.urlopen("http://example.com", timeout=5)',
        'except urllib.error.URLError as e:',
        '    out.append(str(e))',
        'out.append((socket.gethostname(), socket.getfqdn(), email.utils.make_msgid().endswith("@localhost>")))',
        'print(out)',
      ].join('\n'),
    );
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(
      "[('OSError', 'ENETUNREACH'), ('OSError', 'ENETUNREACH'), ('OSError', 'ENETUNREACH'), '<urlopen error [Errno 101] Network is unreachable (this sandbox has no network)>', ('localhost', 'localhost', True)]\n",
    );
  });
});
