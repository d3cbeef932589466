// Compatibility: short cells of the kind a model writes (benchmarks/compat-cells/*.py), run
// in each system and compared, stdout byte for byte, with native CPython 3.11 running the
// same cell. Like the conformance suite, the cells are data; this is the small runner.
//
// Every system gets the same two host functions, in its own way: `lookup(id=...)`, a sync
// tool call returning a dict, and `alookup(id=...)`, its awaitable form. The current
// directory is an empty folder per cell (the workspace). Top-level `await` is allowed (the
// native runner compiles with PyCF_ALLOW_TOP_LEVEL_AWAIT, as notebooks do).
//
// `node build/benchmarks/compat.js [tooliscode|monty|pyodide ...]` runs this section alone.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../compiler/build.js';
import { loadGuest } from '../runtime/guest.js';
import { packageRoot } from '../runtime/package-root.js';
import { loadMonty, montyRun } from './monty.js';
import { loadPyodideFromSnapshot } from './peers.js';
import { runIfMain } from './script.js';

export interface Cell {
  name: string;
  code: string;
}

/** What a system printed for a cell, or the error that ended it. */
export interface CellOutput {
  stdout: string;
  error?: string;
}

export interface CompatSystem {
  name: string;
  run(cell: Cell): Promise<CellOutput>;
  close(): Promise<void>;
}

export interface SystemScore {
  passed: number;
  total: number;
  /** Each failed cell with the reason: its error, or the first line that differs. */
  failed: { cell: string; reason: string }[];
}

export const CELLS_DIR = join(packageRoot(), 'benchmarks', 'compat-cells');
export const NATIVE_PYTHON = '/usr/bin/python3.11';

export function loadCells(dir = CELLS_DIR): Cell[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((f) => ({ name: f.replace(/\.py$/, ''), code: readFileSync(join(dir, f), 'utf8') }));
}

/** The host function every system offers, as data (the same in Python below). */
export const lookupValue = (id: number) => ({ id, name: `item-${id}`, price: id + 0.25, tags: id % 2 ? ['odd'] : ['even'] });

const NATIVE_RUNNER = `import ast, asyncio as _asyncio, inspect, os, sys
os.chdir(sys.argv[2])
def lookup(id):
    return {"id": id, "name": f"item-{id}", "price": id + 0.25, "tags": ["odd"] if id % 2 else ["even"]}
async def alookup(id):
    await _asyncio.sleep(0)
    return lookup(id)
g = {"__name__": "__main__", "lookup": lookup, "alookup": alookup}
src = open(sys.argv[1]).read()
r = eval(compile(src, "cell.py", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), g)
if inspect.iscoroutine(r):
    _asyncio.run(r)
`;

/** Native CPython, one process per cell. */
export function nativePython(python = NATIVE_PYTHON): CompatSystem {
  const root = mkdtempSync(join(tmpdir(), 'tic-compat-native-'));
  return {
    name: `native ${python}`,
    async run(cell) {
      const dir = join(root, cell.name);
      mkdirSync(dir);
      const file = join(root, `${cell.name}.py`);
      writeFileSync(file, cell.code);
      try {
        return { stdout: execFileSync(python, ['-c', NATIVE_RUNNER, file, dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }) };
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string };
        return { stdout: e.stdout ?? '', error: (e.stderr ?? String(err)).trim().split('\n').pop()! };
      }
    },
    async close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const TOOLS = {
  tools: [{ name: 'lookup', description: 'Looks up an item.', inputSchema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } }],
};

/** A build with the one `lookup` tool (tic build caches its snapshot). */
export async function compatGuestDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tic-compat-'));
  writeFileSync(join(dir, 'tools.json'), JSON.stringify(TOOLS));
  await build({ inputs: [join(dir, 'tools.json')], outDir: join(dir, 'dist'), log: () => {} });
  return join(dir, 'dist');
}

/** tooliscode: a fresh session per cell, its workspace an empty host folder. */
export async function tooliscode(dir: string): Promise<CompatSystem> {
  const guest = await loadGuest(dir);
  const root = mkdtempSync(join(tmpdir(), 'tic-compat-ws-'));
  const handlers = { lookup: ({ id }: { id: number }) => lookupValue(id) };
  return {
    name: 'tooliscode',
    async run(cell) {
      const s = await guest.createSession({ handlers, workspace: join(root, cell.name), limits: { timeoutMs: 60_000 } });
      try {
        const pre = await s.run('from tools import lookup\nalookup = tools.aio.lookup');
        if (!pre.ok) return { stdout: '', error: `prelude: ${pre.error!.type}: ${pre.error!.message}` };
        const r = await s.run(cell.code);
        return r.ok ? { stdout: r.stdout } : { stdout: r.stdout, error: `${r.error!.type}: ${r.error!.message}` };
      } finally {
        await s.close();
      }
    },
    async close() {
      await guest.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Monty: each cell a program of its own, its folder mounted read-write at `/` (so relative paths land there). */
export async function monty(): Promise<CompatSystem | string> {
  const { monty: m, missing } = await loadMonty();
  if (!m) return missing!;
  const root = mkdtempSync(join(tmpdir(), 'tic-compat-monty-'));
  const lookup = (...args: unknown[]) => {
    const kwargs = args.pop() as { id?: number };
    return lookupValue((args[0] as number | undefined) ?? kwargs.id!);
  };
  // Monty's external functions are not awaitable: alookup is a coroutine around the sync call.
  const prelude = 'async def alookup(id):\n    return lookup(id=id)\n';
  return {
    name: 'Monty',
    async run(cell) {
      const dir = join(root, cell.name);
      mkdirSync(dir);
      let stdout = '';
      try {
        const r = montyRun(m, prelude + cell.code, { lookup }, { mount: new m.MountDir('/', dir, { mode: 'read-write' }), maxDurationSecs: 60 });
        stdout = r.stdout;
        return { stdout };
      } catch (err) {
        return { stdout, error: (err as Error).message.split('\n')[0]! };
      }
    },
    async close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Pyodide: one interpreter from its snapshot, fresh globals and an empty folder (its in-memory FS) per cell. */
export async function pyodide(): Promise<CompatSystem> {
  const py = await loadPyodideFromSnapshot();
  py.registerJsModule('_compat_host', {
    lookup_json: (id: number) => JSON.stringify(lookupValue(id)),
    alookup_json: async (id: number) => JSON.stringify(lookupValue(id)),
  });
  const prelude = `import json as _json
from _compat_host import lookup_json as _lj, alookup_json as _alj
def lookup(id):
    return _json.loads(_lj(id))
async def alookup(id):
    return _json.loads(await _alj(id))
`;
  let out = '';
  const decoder = new TextDecoder();
  py.setStdout({ write: (buf: Uint8Array) => ((out += decoder.decode(buf, { stream: true })), buf.length) });
  py.setStderr({ write: (buf: Uint8Array) => buf.length });
  return {
    name: 'Pyodide',
    async run(cell) {
      out = '';
      const globals = py.toPy({}) as Parameters<typeof py.runPython>[1] extends infer O ? (O extends { globals?: infer G } ? G : never) : never;
      try {
        py.runPython(`import os\nos.makedirs('/compat/${cell.name}', exist_ok=True)\nos.chdir('/compat/${cell.name}')`);
        py.runPython(prelude, { globals });
        try {
          await py.loadPackagesFromImports(cell.code, { messageCallback: () => {}, errorCallback: () => {} });
        } catch {
          // no network for packages outside the npm package: the cell's import then fails
        }
        await py.runPythonAsync(cell.code, { globals });
        return { stdout: out };
      } catch (err) {
        return { stdout: out, error: (err as Error).message.trim().split('\n').pop()! };
      }
    },
    async close() {},
  };
}

/** Runs every cell in `system` and scores it against `expected` (cell name -> stdout). */
export async function score(system: CompatSystem, cells: Cell[], expected: Record<string, string>): Promise<SystemScore> {
  const failed: SystemScore['failed'] = [];
  for (const cell of cells) {
    const want = expected[cell.name];
    if (want === undefined) throw new Error(`no expected output for ${cell.name}`);
    const got = await system.run(cell);
    if (got.error !== undefined) failed.push({ cell: cell.name, reason: got.error });
    else if (got.stdout !== want) failed.push({ cell: cell.name, reason: firstDifference(want, got.stdout) });
  }
  return { passed: cells.length - failed.length, total: cells.length, failed };
}

function firstDifference(want: string, got: string): string {
  const a = want.split('\n');
  const b = got.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: expected ${JSON.stringify(a[i] ?? '(end)')}, got ${JSON.stringify(b[i] ?? '(end)')}`;
  }
  return 'differs';
}

export interface CompatResult {
  cells: number;
  reference: string;
  /** Cells the reference itself failed (a broken cell; excluded from the counts). */
  brokenCells: string[];
  systems: Record<string, SystemScore>;
  notes: string[];
}

/** The whole section: native first (the expected outputs), then each system. */
export async function compat(names: string[] = ['tooliscode', 'monty', 'pyodide'], log: (line: string) => void = () => {}): Promise<CompatResult> {
  const all = loadCells();
  const native = nativePython();
  const expected: Record<string, string> = {};
  const brokenCells: string[] = [];
  for (const cell of all) {
    const r = await native.run(cell);
    if (r.error !== undefined) brokenCells.push(`${cell.name} (${r.error})`);
    else expected[cell.name] = r.stdout;
  }
  await native.close();
  const cells = all.filter((c) => expected[c.name] !== undefined);
  const systems: Record<string, SystemScore> = {};
  const notes: string[] = [];
  for (const name of names) {
    log(`compat: ${cells.length} cells in ${name}`);
    const system = name === 'tooliscode' ? await tooliscode(await compatGuestDir()) : name === 'monty' ? await monty() : await pyodide();
    if (typeof system === 'string') {
      notes.push(`Monty: skipped, ${system}`);
      continue;
    }
    systems[system.name] = await score(system, cells, expected);
    await system.close();
  }
  return { cells: cells.length, reference: `native ${NATIVE_PYTHON}`, brokenCells, systems, notes };
}

export function compatMarkdown(r: CompatResult, section: string): string[] {
  const names = Object.keys(r.systems);
  return [
    `## ${section}. Compatibility: ${r.cells} cells a model typically writes`,
    '',
    `Each cell of \`benchmarks/compat-cells/\` (classes, dataclasses, json, re, datetime, zoneinfo, collections, itertools, statistics, sqlite3, csv, asyncio.gather over host calls, match, decorators, generators, files in the workspace, ...) runs in each system; it passes when it finishes without an error and prints exactly what ${r.reference} printed for it. Host calls are \`lookup(id=...)\` and \`await alookup(id=...)\` in every system (tooliscode: its SDK; Monty: an external function; Pyodide: a JavaScript module).`,
    '',
    '| system | cells passed | of |',
    '| --- | ---: | ---: |',
    ...names.map((n) => `| ${n} | ${r.systems[n]!.passed} | ${r.systems[n]!.total} |`),
    '',
    ...r.notes.map((n) => `${n}.`),
    ...(r.brokenCells.length ? [`Left out because native CPython failed them: ${r.brokenCells.join(', ')}.`, ''] : []),
    'Failed cells, with the error or the first line that differs:',
    '',
    ...names.flatMap((n) => {
      const f = r.systems[n]!.failed;
      return f.length ? [`- **${n}** (${f.length}): ${f.map((x) => `\`${x.cell}\`: ${x.reason.replace(/\|/g, '\\|').slice(0, 160)}`).join('; ')}`] : [`- **${n}**: none`];
    }),
  ];
}

runIfMain(import.meta.url, async () => {
  const names = process.argv.slice(2);
  const r = await compat(names.length ? names : undefined, (l) => process.stderr.write(`bench: ${l}\n`));
  process.stdout.write(`${compatMarkdown(r, 'C').join('\n')}\n`);
});
