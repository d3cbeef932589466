// The check table on the real MCP fixtures, read by the guest's check (guest/python/_tic/check.py)
// run in the host's python3.11 with the generated SDK: calls with dynamic arguments are never
// flagged, a wrong keyword or a misspelt function of every tool is, with its signature.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../runtime/package-root.js';
import { FIXTURES, FIXTURES_DIR, sdkOf, writeSdk } from '../test-setup/sdk.js';
import { CHECK_TABLE_FILE, type CheckTable, emitCheckTable } from './emit-check.js';

const PYTHON = '/usr/bin/python3.11';

// Loads the SDK and the table with a stand-in for the host call, then checks each cell of
// stdin (JSON list) and prints the problems of each as JSON.
const DRIVER = `
import ast, json, sys, types
sdk, guest = sys.argv[1], sys.argv[2]
sys.path[:0] = [sdk, guest]
host = types.ModuleType("_tic_host")
host.call = lambda b: b'{"ok": true, "value": null}'
host.in_cell = lambda x: None
host.check_interrupt = lambda: None
sys.modules["_tic_host"] = host
import importlib
from _tic import check
table = json.load(open(sdk + "/${CHECK_TABLE_FILE}"))
module = importlib.import_module(table["module"])
check.load(sdk + "/${CHECK_TABLE_FILE}")
check.STRICT = True
out = []
for src in json.load(sys.stdin):
    tree = compile(src, "<cell>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    out.append([[p.certain, str(p)] for p in check.check(tree, src, {"tools": module})])
print(json.dumps(out))
`;

function checkCells(sdkDir: string, cells: string[]): [boolean, string][][] {
  const driver = join(sdkDir, '..', 'driver.py');
  writeFileSync(driver, DRIVER);
  const out = execFileSync(PYTHON, [driver, sdkDir, join(packageRoot(), 'guest', 'python')], { input: JSON.stringify(cells), encoding: 'utf8' });
  return JSON.parse(out) as [boolean, string][][];
}

describe.skipIf(!existsSync(PYTHON))('the check table on real tool lists', () => {
  it.each(FIXTURES)('%s: dynamic calls pass; a wrong keyword and a misspelt name are caught with the signature', (fixture) => {
    const sdk = sdkOf(join(FIXTURES_DIR, `${fixture}.json`));
    const dir = join(mkdtempSync(join(tmpdir(), 'tic-check-')), 'sdk');
    writeSdk(sdk, dir);
    const tableText = emitCheckTable(sdk, 'tools');
    writeFileSync(join(dir, CHECK_TABLE_FILE), tableText);
    const table = JSON.parse(tableText) as CheckTable;
    const cells: string[] = [];
    const expected: RegExp[][] = [];
    for (const [ns, functions] of Object.entries(table.modules)) {
      const path = ns ? `tools.${ns}` : 'tools';
      for (const [name, fn] of Object.entries(functions)) {
        const required = fn.params.filter((p) => p[2]);
        const dynamic = required.map((p) => `${p[0]}=v_${p[0]}`).join(', ');
        cells.push(`${path}.${name}(${dynamic})\nawait ${path}.aio.${name}(${dynamic})`);
        expected.push([]);
        if (!fn.extra) {
          cells.push(`${path}.${name}(${[dynamic, 'no_such_arg=1'].filter(Boolean).join(', ')})`);
          expected.push([new RegExp(`^line 1, col \\d+: .*unknown keyword argument 'no_such_arg'; signature: ${path.replace('.', '\\.')}\\.${name}\\(`)]);
        }
        cells.push(`${path}.${name}x(${dynamic})`);
        expected.push([new RegExp(`^line 1, col ${path.length + 2}: ${path.replace('.', '\\.')}\\.${name}x: ${path.replace('.', '\\.')} has no function '${name}x'; did you mean ${path.replace('.', '\\.')}\\.${name}(\\?| or ).*; signature: `)]);
      }
    }
    const results = checkCells(dir, cells);
    results.forEach((problems, i) => {
      expect(problems.length, `${cells[i]}: ${JSON.stringify(problems)}`).toBe(expected[i]!.length);
      problems.forEach(([certain, text], j) => {
        expect(certain).toBe(true);
        expect(text).toMatch(expected[i]![j]!);
      });
    });
    expect(cells.length).toBeGreaterThan(10);
  });
});

// The guest's format and pattern checks against the host's ajv on the same strings (seeds
// and seeded mutations of them): the guest may let a bad value through (the host refuses it
// later), it may never refuse one ajv accepts.
const SEEDS = ['2024-02-29', '2023-02-29', '2024-13-01', '12:30:00Z', '23:59:60Z', '23:59:60+01:00', '12:30:00', '2024-02-29T12:00:00Z', '2024-02-29 12:00:00+02:00', '2024-02-29t12:00:00.5z', '2024-02-29\u00a012:00:00Z', '2024-02-29\x1c12:00:00Z',
  'a@b.co', 'first.last+tag@example.org', 'nope', 'a@b', 'ü@x.com', 'example.com', 'EXAMPLE.com.', '-bad.com', '1.2.3.4', '256.1.1.1', '::1', '2001:db8::1', '::ffff:1.2.3.4',
  'https://example.com/a?b=c#d', 'http://[::1]:80/', 'mailto:a@b.co', 'not a uri', '/relative/path', 'http://ex ample.com', 'http://例え.jp', '#frag',
  '123e4567-e89b-12d3-a456-426614174000', 'urn:uuid:123e4567-e89b-12d3-a456-426614174000', '/a~0b/c~1', '/a~2', '', '0/a', 'P1D', 'PT1H', 'P', 'P1Y2M3DT4H5M6S', '{a}', '/x/{+path}',
  'abc', 'A B', 'owner/repo', '#a1B2c3', '+1 555', 'foo bar', '   ', '\t', 'admin', 'v1.2.3', 'é', 'a\nb', 'abc\n', '\x0b', '\x1c', '\u00a0', '\ufeff'];
const PATTERNS = ['^[a-z0-9-]+$', '^\\d{4}-\\d{2}-\\d{2}$', '^[A-Z]{2}$', '^\\S+@\\S+$', '^(open|closed)$', '^[\\w.-]+/[\\w.-]+$', '^#[0-9a-fA-F]{6}$', '\\bfoo\\b', '^[^/]+$', '^.{1,10}$', '^\\s*$', '^\\w+$', '^(?!admin).*$', '^v\\d+\\.\\d+\\.\\d+$', '^\\W+$', '^[^\\s]+$', '^\\.'];

function mutations(seeds: string[], per: number): string[] {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const alphabet = 'aZ09:/.-_@%~#?[]{}+ \u00e9\u00a0Tz\n\t\x1cPWDHS';
  const out = new Set(seeds);
  for (const s of seeds) {
    for (let i = 0; i < per; i++) {
      const a = [...s];
      const at = rnd(a.length + 1);
      const ch = alphabet[rnd(alphabet.length)]!;
      const op = rnd(3);
      if (op === 0) a.splice(at, 0, ch);
      else if (op === 1) a.splice(at, 1);
      else a[at] = ch;
      out.add(a.join(''));
    }
  }
  return [...out];
}

const VERDICTS = `
import json, sys, types
sys.path.insert(0, sys.argv[1])
sys.modules["_tic_host"] = types.ModuleType("_tic_host")
from _tic import check
data = json.load(sys.stdin)
formats = dict(check._CODE_FORMATS)
for name, f in data["formats"].items():
    formats[name] = check._format_regex(f)
alarms = []
for kind, rule, s, ok in data["cases"]:
    schema = {"format": rule} if kind == "format" else {"pattern": rule}
    if ok and check._string(s, schema, "x") is not None:
        alarms.append([kind, rule, s])
print(json.dumps({"alarms": alarms, "formats": sorted(formats)}))
`;

describe.skipIf(!existsSync(PYTHON))('formats and patterns: the guest never refuses what ajv accepts', () => {
  it('holds on seeded strings for every format of the table and common patterns', async () => {
    const { ajvFor } = await import('./schema-ajv.js');
    const table = JSON.parse(emitCheckTable({ files: new Map(), modules: [] }, 'tools')) as CheckTable;
    const formats = [...Object.keys(table.formats), 'date', 'time', 'date-time'];
    const samples = mutations(SEEDS, 12);
    const cases: [string, string, string, boolean][] = [];
    const { ajv } = ajvFor({});
    for (const format of formats) {
      const v = ajv.compile({ type: 'string', format });
      for (const s of samples) cases.push(['format', format, s, v(s) as boolean]);
    }
    for (const pattern of PATTERNS) {
      const v = ajv.compile({ type: 'string', pattern });
      for (const s of samples) cases.push(['pattern', pattern, s, v(s) as boolean]);
    }
    const dir = mkdtempSync(join(tmpdir(), 'tic-verdicts-'));
    writeFileSync(join(dir, 'verdicts.py'), VERDICTS);
    const out = JSON.parse(execFileSync(PYTHON, [join(dir, 'verdicts.py'), join(packageRoot(), 'guest', 'python')], { input: JSON.stringify({ formats: table.formats, cases }), encoding: 'utf8', maxBuffer: 64 << 20 })) as { alarms: unknown[]; formats: string[] };
    expect(out.formats).toEqual(expect.arrayContaining(['date', 'date-time', 'email', 'hostname', 'ipv4', 'ipv6', 'uri', 'uuid']));
    expect(out.alarms).toEqual([]);
    expect(cases.length).toBeGreaterThan(10_000);
  });
});
