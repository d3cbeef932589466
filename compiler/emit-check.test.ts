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
