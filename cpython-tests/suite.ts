// CPython's regression tests as a peer suite: the curated module list, the expected
// failures, the test tree from the pinned CPython sources, and the comparison that
// decides whether a run passes.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BUILD_PYTHON, SOURCES, fetchSources } from '../guest/build/debian.js';

/** Where the guest finds the tests (a read-only folder under /lib). */
export const MOUNT = '/lib/cpython-tests';
/** The driver prints its report after this marker (cpython-tests/driver.py). */
export const MARKER = '@@cpython-tests@@';

export type Status = 'pass' | 'fail' | 'error' | 'skip';
/** Test id -> [status, detail]. */
export type Outcomes = Record<string, [Status, string]>;

export interface ModuleReport {
  tests: Outcomes;
  /** Seconds the tests took, as the driver measured them. */
  seconds: number;
}

export interface GuestJob {
  module: string;
  timeoutMs: number;
}

export interface GuestJobResult extends ModuleReport {
  wallSeconds: number;
  /** Why the module did not report normally (crash, timeout, load failure). */
  problem?: string;
}

export class SuiteError extends Error {}

export function parseDriverOutput(stdout: string): ModuleReport | undefined {
  const at = stdout.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  const line = stdout.slice(at + MARKER.length).split('\n', 1)[0]!;
  return JSON.parse(line) as ModuleReport;
}

/** Test modules, one per line; `#` starts a comment. */
export function readModules(file: string): string[] {
  const modules: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) return;
      if (!/^test_[A-Za-z0-9_]+$/.test(line)) throw new SuiteError(`${file}:${i + 1}: ${JSON.stringify(line)} is not a test module name (test_...)`);
      if (modules.includes(line)) throw new SuiteError(`${file}:${i + 1}: ${line} is listed twice`);
      modules.push(line);
    });
  return modules;
}

export interface ExpectedFailures {
  /** Reason category -> what it means. */
  categories: Record<string, string>;
  /** Test id -> reason category. */
  failures: Record<string, string>;
}

/** Reads and checks the expected-failures file: every entry names a known category. */
export function readExpected(file: string): ExpectedFailures {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SuiteError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(doc) || !isMap(doc.categories)) throw new SuiteError(`${file}: expected a mapping with "categories" and "failures"`);
  const categories: Record<string, string> = {};
  for (const [name, text] of Object.entries(doc.categories)) {
    if (typeof text !== 'string') throw new SuiteError(`${file}: categories.${name}: expected a description (string)`);
    categories[name] = text;
  }
  const failures: Record<string, string> = {};
  const raw = doc.failures ?? {};
  if (!isMap(raw)) throw new SuiteError(`${file}: "failures" must map test ids to categories`);
  for (const [id, category] of Object.entries(raw)) {
    if (typeof category !== 'string' || !(category in categories)) {
      throw new SuiteError(`${file}: failures["${id}"]: ${JSON.stringify(category)} is not one of the categories (${Object.keys(categories).join(', ')})`);
    }
    failures[id] = category;
  }
  return { categories, failures };
}

/** Modules whose tests live in a helper module of another name (test ids name the helper). */
const HELPER_MODULES: Record<string, string> = { 'test.datetimetester': 'test_datetime' };

/** The module a test id belongs to, given the modules that ran (longest match wins). */
export function moduleOf(id: string, modules: string[]): string | undefined {
  for (const [helper, module] of Object.entries(HELPER_MODULES)) if (id.startsWith(`${helper}.`) && modules.includes(module)) return module;
  let best: string | undefined;
  for (const m of modules) {
    const prefix = `test.${m}`;
    if ((id === prefix || id.startsWith(`${prefix}.`) || id.includes(`(${prefix}.`)) && (!best || m.length > best.length)) best = m;
  }
  return best;
}

export interface Verdict {
  /** Failed (or errored) and not listed. */
  newFailures: { id: string; status: Status; detail: string }[];
  /** Listed as expected to fail, and passed. */
  unexpectedPasses: { id: string; category: string }[];
  /** Listed for a module that ran, but no such test ran (renamed, or only skipped now). */
  notRun: { id: string; category: string; status?: Status }[];
}

/** Compares the guest's outcomes with the expected failures, for the modules that ran. */
export function judge(results: Record<string, Outcomes>, expected: ExpectedFailures): Verdict {
  const verdict: Verdict = { newFailures: [], unexpectedPasses: [], notRun: [] };
  const all: Outcomes = {};
  for (const outcomes of Object.values(results)) Object.assign(all, outcomes);
  for (const [id, [status, detail]] of Object.entries(all)) {
    const category = expected.failures[id];
    if ((status === 'fail' || status === 'error') && category === undefined) verdict.newFailures.push({ id, status, detail });
    if (status === 'pass' && category !== undefined) verdict.unexpectedPasses.push({ id, category });
  }
  const ran = Object.keys(results);
  for (const [id, category] of Object.entries(expected.failures)) {
    if (!moduleOf(id, ran)) continue;
    const got = all[id];
    if (!got) verdict.notRun.push({ id, category });
    else if (got[0] === 'skip') verdict.notRun.push({ id, category, status: 'skip' });
  }
  return verdict;
}

export interface Counts {
  pass: number;
  fail: number;
  skip: number;
}

export function count(outcomes: Outcomes): Counts {
  const c: Counts = { pass: 0, fail: 0, skip: 0 };
  for (const [status] of Object.values(outcomes)) {
    if (status === 'pass') c.pass++;
    else if (status === 'skip') c.skip++;
    else c.fail++;
  }
  return c;
}

/** Every file of the extracted test tree: [path relative to the root, absolute path]. */
export function testTreeFiles(root: string): [string, string][] {
  const out: [string, string][] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push([relative(root, full), full]);
    }
  };
  walk(root);
  return out;
}

/** Bumped when what prepareTestTree puts in the folder changes. */
const TREE_LAYOUT = 2;

/**
 * The `test` package of the pinned CPython sources, extracted once into the cache with
 * its bytecode compiled by the build Python (unchecked hash-based .pyc, the same 3.11
 * magic as the guest), so neither side spends its run compiling test sources.
 * Returns the folder that holds `test/` (and `_pydecimal.py`, which test_decimal needs).
 */
export async function prepareTestTree(cacheDir: string, log: (line: string) => void): Promise<string> {
  const root = join(cacheDir, 'cpython-tests', `${SOURCES.cpython.sha256.slice(0, 16)}-${TREE_LAYOUT}`);
  if (existsSync(join(root, '.complete'))) return root;
  const tarballs = await fetchSources(join(cacheDir, 'sources'), join(cacheDir, 'apt'), log, { keys: ['cpython'] });
  const tmp = `${root}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(`extracting Lib/test from ${SOURCES.cpython.file}`);
  const top = `Python-${/_(\d+\.\d+\.\d+)\./.exec(SOURCES.cpython.file)![1]}`;
  // _pydecimal too: test_decimal will not load without it (the guest ships the C decimal only).
  const members = [`${top}/Lib/test`, `${top}/Lib/_pydecimal.py`];
  const tar = spawnSync('tar', ['-xzf', tarballs.cpython, '-C', tmp, '--strip-components=2', ...members], { encoding: 'utf8' });
  if (tar.status !== 0) throw new SuiteError(`extracting ${members.join(', ')} from ${tarballs.cpython} failed: ${tar.stderr.trim()}`);
  log('compiling the tests to bytecode');
  // Some test files are deliberately invalid Python; compileall reports them and goes on.
  spawnSync(BUILD_PYTHON, ['-m', 'compileall', '-q', '-j', '0', '--invalidation-mode', 'unchecked-hash', join(tmp, 'test'), join(tmp, '_pydecimal.py')], { stdio: 'ignore' });
  writeFileSync(join(tmp, '.complete'), new Date().toISOString());
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
  return root;
}
