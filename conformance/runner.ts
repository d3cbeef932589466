// The conformance runner: reads the case files under conformance/cases/<topic>/, builds
// the guest each tool list needs (cached by content), runs the cells in fresh sessions
// with scripted handlers, and checks what must hold. Cases are data; this file is the
// whole interpreter of their format (see conformance/README.md).

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { build } from '../compiler/build.js';
import { CompileError } from '../compiler/diagnostics.js';
import { cacheRoot, guestKeys, treeHash } from '../guest/build/index.js';
import { type Guest, loadGuest } from '../runtime/guest.js';
import { packageRoot } from '../runtime/package-root.js';
import { errorsOf, pyright } from './pyright.js';
import type { Handlers, Limits, RunResult } from '../runtime/session.js';

export const CASES_DIR = join(packageRoot(), 'conformance', 'cases');
export const FIXTURES_DIR = join(packageRoot(), 'conformance', 'fixtures', 'mcp-tools');

/** What a scripted handler does (one per tool name). */
export interface HandlerSpec {
  /** Return the arguments as they arrived. */
  echo?: boolean;
  /** Return this value (JSON; may be an MCP CallToolResult). */
  reply?: unknown;
  /** Throw an Error with this name and message. */
  throw?: { name?: string; message: string };
  /** Wait this long first (ms). */
  delay?: number;
  /** Never answer. */
  hang?: boolean;
  /** Answer only once the host has received this text on stdout (proves streaming). */
  waitForStdout?: string;
}

export interface CellExpect {
  ok?: boolean;
  stdout?: string;
  stdoutMatches?: string;
  stderr?: string;
  stderrMatches?: string;
  value?: string | null;
  error?: { type?: string; message?: string; traceback?: string };
  /** Exactly the tool calls the host saw during the cell, in order. */
  calls?: { tool: string; args: unknown; namespace?: string }[];
  /** How many tool calls were in flight at once, at most. */
  maxConcurrent?: number;
  /** Files in the session's workspace folder after the cell: path -> content (null: absent). */
  files?: Record<string, string | null>;
  /** The session was ended by this cell. */
  sessionEnded?: boolean;
}

export interface Cell {
  code: string;
  expect: CellExpect;
  /** Run this cell in a new session with a new, empty workspace folder. */
  newSession?: boolean;
}

/** A usage snippet type-checked (pyright, strict) against the built SDK. */
export interface PyrightCheck {
  code: string;
  /** Number of errors expected (0: the snippet is right). */
  errors?: number;
  /** A regex one of the error messages must match (the snippet is wrong in that way). */
  errorMatches?: string;
}

export interface Case {
  name: string;
  /** Files put in the workspace folder before the first cell. */
  workspace?: Record<string, string>;
  limits?: Limits;
  cells?: Cell[];
  /** For bad tool lists: `tic build` must fail with this message (regex). */
  buildError?: string;
  /** Type-checks of snippets that use the SDK. */
  pyright?: PyrightCheck[];
}

export interface CaseFile {
  description: string;
  /** A fixture name (`fixture:memory`) or an inline tool list in any supported shape. */
  tools?: string | unknown;
  /** The raw text of the tool list, for cases about malformed input. */
  toolsText?: string;
  handlers?: Record<string, HandlerSpec>;
  cases: Case[];
}

export interface CaseResult {
  topic: string;
  file: string;
  name: string;
  ok: boolean;
  /** What did not hold, when !ok. */
  failure?: string;
  ms: number;
}

export class ConformanceError extends Error {}

/**
 * Ways to break the system under test on purpose. The suite's own tests use them to show
 * that every topic has cases that fail when the runtime or the compiler misbehaves.
 */
export interface Mutations {
  /** Rewrites the tool list before it is built (a compiler that reads it wrong). */
  toolsText?: (text: string) => string;
  /** Rewrites a build error (a compiler that reports it badly). */
  buildError?: (message: string) => string;
  /** Wraps the handlers (a runtime that delivers calls wrong). */
  handlers?: (handlers: Handlers) => Handlers;
  /** Rewrites a cell's result (a runtime that reports it wrong). */
  result?: (result: RunResult) => RunResult;
}

export function loadCaseFile(path: string): CaseFile {
  let data: unknown;
  try {
    data = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConformanceError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  const f = data as Partial<CaseFile>;
  if (typeof f !== 'object' || f === null) throw new ConformanceError(`${path}: expected a mapping`);
  if (typeof f.description !== 'string') throw new ConformanceError(`${path}: description: expected a string`);
  if (!Array.isArray(f.cases) || f.cases.length === 0) throw new ConformanceError(`${path}: cases: expected a non-empty list`);
  if (f.tools === undefined && f.toolsText === undefined) throw new ConformanceError(`${path}: give tools or toolsText`);
  f.cases.forEach((c, i) => {
    if (typeof c?.name !== 'string') throw new ConformanceError(`${path}: cases[${i}].name: expected a string`);
    if (c.buildError === undefined && !Array.isArray(c.cells) && !Array.isArray(c.pyright)) throw new ConformanceError(`${path}: cases[${i}] (${c.name}): give cells, pyright or buildError`);
    c.cells?.forEach((cell, j) => {
      if (typeof cell?.code !== 'string') throw new ConformanceError(`${path}: cases[${i}].cells[${j}].code: expected a string`);
      if (typeof cell.expect !== 'object' || cell.expect === null) throw new ConformanceError(`${path}: cases[${i}].cells[${j}].expect: expected a mapping`);
    });
  });
  return f as CaseFile;
}

/** Every case file, by topic (the folder name), optionally filtered by topic or file name. */
export function discover(filter?: string): { topic: string; path: string }[] {
  const out: { topic: string; path: string }[] = [];
  for (const topic of readdirSync(CASES_DIR).sort()) {
    const dir = join(CASES_DIR, topic);
    for (const name of readdirSync(dir).sort()) {
      if (!/\.(ya?ml|json)$/.test(name)) continue;
      if (filter && !topic.includes(filter) && !name.includes(filter)) continue;
      out.push({ topic, path: join(dir, name) });
    }
  }
  return out;
}

function toolsSource(file: CaseFile): { name: string; text: string } {
  if (file.toolsText !== undefined) return { name: 'tools.json', text: file.toolsText };
  if (typeof file.tools === 'string' && file.tools.startsWith('fixture:')) {
    const name = file.tools.slice('fixture:'.length);
    return { name: `${name}.json`, text: readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8') };
  }
  return { name: 'tools.json', text: JSON.stringify(file.tools) };
}

let toolchainKey: string | undefined;

/** What a build depends on besides its input: the compiler, its templates and the base guest. */
function toolchain(): string {
  toolchainKey ??= [treeHash(join(packageRoot(), 'build', 'compiler')), treeHash(join(packageRoot(), 'templates')), guestKeys().snapshot].join('-');
  return toolchainKey;
}

/** Builds (or reuses) the guest of a tool list; a build error is returned, not thrown. */
async function guestFor(src: { name: string; text: string }): Promise<{ dir: string } | { error: string }> {
  const key = createHash('sha256').update(toolchain()).update('\0').update(src.name).update('\0').update(src.text).digest('hex').slice(0, 16);
  const root = join(cacheRoot(), 'conformance', key);
  const input = join(root, 'in', src.name);
  const out = join(root, 'dist');
  if (existsSync(join(out, 'manifest.json'))) return { dir: out };
  mkdirSync(join(root, 'in'), { recursive: true });
  writeFileSync(input, src.text);
  try {
    await build({ inputs: [input], outDir: out, log: () => {} });
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    if (err instanceof CompileError) return { error: err.message.replaceAll(input, src.name).replaceAll(join(root, 'in'), '') };
    throw err;
  }
  return { dir: out };
}

interface Recorder {
  calls: { tool: string; args: unknown; namespace?: string }[];
  inFlight: number;
  most: number;
  /** stdout as the host received it while the cell ran. */
  streamed: string;
}

function scriptedHandlers(specs: Record<string, HandlerSpec>, rec: Recorder): Handlers {
  const handlers: Handlers = {};
  for (const [tool, spec] of Object.entries(specs)) {
    handlers[tool] = async (args: unknown) => {
      rec.calls.push({ tool, args });
      rec.most = Math.max(rec.most, ++rec.inFlight);
      try {
        if (spec.hang) await new Promise(() => {});
        if (spec.waitForStdout !== undefined) {
          const deadline = Date.now() + 2000;
          while (!rec.streamed.includes(spec.waitForStdout)) {
            if (Date.now() > deadline) throw new Error(`stdout ${JSON.stringify(spec.waitForStdout)} did not reach the host while the cell ran`);
            await new Promise((r) => setTimeout(r, 5));
          }
        }
        if (spec.delay) await new Promise((r) => setTimeout(r, spec.delay));
        if (spec.throw) throw Object.assign(new Error(spec.throw.message), { name: spec.throw.name ?? 'Error' });
        return spec.echo ? args : spec.reply;
      } finally {
        rec.inFlight--;
      }
    };
  }
  return handlers;
}

function matches(pattern: string, text: string): boolean {
  return new RegExp(pattern, 's').test(text);
}

/** The first expectation of `e` that `r` breaks, or undefined. */
function check(e: CellExpect, r: RunResult, rec: Recorder, workspace: string, closed: boolean): string | undefined {
  const show = (v: unknown) => JSON.stringify(v);
  const ok = e.ok ?? (e.error === undefined && !e.sessionEnded);
  if (r.ok !== ok) return `ok: expected ${ok}, got ${r.ok}${r.error ? ` (${r.error.type}: ${r.error.message})` : ''}`;
  if (e.stdout !== undefined && r.stdout !== e.stdout) return `stdout: expected ${show(e.stdout)}, got ${show(r.stdout)}`;
  if (e.stdoutMatches !== undefined && !matches(e.stdoutMatches, r.stdout)) return `stdout: expected to match /${e.stdoutMatches}/, got ${show(r.stdout.slice(0, 300))}`;
  if (e.stderr !== undefined && r.stderr !== e.stderr) return `stderr: expected ${show(e.stderr)}, got ${show(r.stderr)}`;
  if (e.stderrMatches !== undefined && !matches(e.stderrMatches, r.stderr)) return `stderr: expected to match /${e.stderrMatches}/, got ${show(r.stderr.slice(0, 300))}`;
  if (e.value !== undefined && (r.value ?? null) !== e.value) return `value: expected ${show(e.value)}, got ${show(r.value ?? null)}`;
  if (e.error) {
    if (e.error.type !== undefined && r.error?.type !== e.error.type) return `error type: expected ${e.error.type}, got ${r.error?.type}`;
    if (e.error.message !== undefined && !matches(e.error.message, r.error?.message ?? '')) return `error message: expected to match /${e.error.message}/, got ${show(r.error?.message)}`;
    if (e.error.traceback !== undefined && !matches(e.error.traceback, r.error?.traceback ?? '')) return `traceback: expected to match /${e.error.traceback}/, got ${show(r.error?.traceback)}`;
  }
  if (e.calls !== undefined && show(rec.calls) !== show(e.calls)) return `calls: expected ${show(e.calls)}, got ${show(rec.calls)}`;
  if (e.maxConcurrent !== undefined && rec.most !== e.maxConcurrent) return `calls in flight at once: expected ${e.maxConcurrent}, got ${rec.most}`;
  for (const [path, content] of Object.entries(e.files ?? {})) {
    const full = join(workspace, path);
    const actual = existsSync(full) ? readFileSync(full, 'utf8') : null;
    if (actual !== content) return `workspace file ${path}: expected ${show(content)}, got ${show(actual)}`;
  }
  if (e.sessionEnded !== undefined && closed !== e.sessionEnded) return `session ended: expected ${e.sessionEnded}, got ${closed}`;
  return undefined;
}

/** Writes the snippet next to the SDK (as `tools` is imported in a cell) and judges it. */
function typeCheck(dist: string, check: PyrightCheck): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tic-conf-py-'));
  try {
    const sdk = join(dist, 'sdk');
    for (const name of readdirSync(sdk)) cpSync(join(sdk, name), join(dir, name), { recursive: true });
    writeFileSync(join(dir, 'usage.py'), `import tools\n${check.code}\n`);
    const errors = errorsOf(pyright(dir)).filter((d) => d.file.endsWith('usage.py'));
    const messages = errors.map((e) => `line ${e.range.start.line}: ${e.message.split('\n')[0]}`);
    if (check.errors !== undefined && errors.length !== check.errors) return `expected ${check.errors} error(s), got ${errors.length}: ${JSON.stringify(messages)}`;
    if (check.errorMatches !== undefined && !errors.some((e) => matches(check.errorMatches!, e.message))) return `expected an error matching /${check.errorMatches}/, got ${JSON.stringify(messages)}`;
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const guests = new Map<string, Promise<Guest>>();

async function runCase(file: CaseFile, c: Case, built: { dir: string } | { error: string }, mutations: Mutations): Promise<string | undefined> {
  if (c.buildError !== undefined) {
    if (!('error' in built)) return `tic build: expected an error matching /${c.buildError}/, but it built`;
    const error = mutations.buildError ? mutations.buildError(built.error) : built.error;
    return matches(c.buildError, error) ? undefined : `tic build error: expected to match /${c.buildError}/, got ${JSON.stringify(error)}`;
  }
  if ('error' in built) return `tic build failed: ${built.error}`;
  for (const [i, check] of (c.pyright ?? []).entries()) {
    const failure = typeCheck(built.dir, check);
    if (failure) return `pyright ${i + 1}: ${failure}`;
  }
  if (!c.cells) return undefined;
  let guest = guests.get(built.dir);
  if (!guest) {
    guest = loadGuest(built.dir, { warm: 1 });
    guests.set(built.dir, guest);
  }
  let workspace = mkdtempSync(join(tmpdir(), 'tic-conf-'));
  const folders = [workspace];
  for (const [path, content] of Object.entries(c.workspace ?? {})) {
    mkdirSync(join(workspace, path, '..'), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
  const rec: Recorder = { calls: [], inFlight: 0, most: 0, streamed: '' };
  const scripted = scriptedHandlers(file.handlers ?? {}, rec);
  const open = async () =>
    (await guest).createSession({ handlers: mutations.handlers ? mutations.handlers(scripted) : scripted, workspace, ...(c.limits ? { limits: c.limits } : {}) });
  let session = await open();
  try {
    for (const [i, cell] of c.cells.entries()) {
      if (cell.newSession) {
        await session.close();
        workspace = mkdtempSync(join(tmpdir(), 'tic-conf-'));
        folders.push(workspace);
        session = await open();
      }
      rec.calls = [];
      rec.most = 0;
      rec.streamed = '';
      const raw = await session.run(cell.code, { onStdout: (t) => (rec.streamed += t) });
      const r = mutations.result ? mutations.result(raw) : raw;
      const failure = check(cell.expect, r, rec, workspace, session.isClosed);
      if (failure) return `cell ${i + 1}: ${failure}`;
    }
    return undefined;
  } finally {
    await session.close();
    for (const f of folders) rmSync(f, { recursive: true, force: true });
  }
}

/** Runs the suite; `onResult` sees each case as it finishes. */
export async function runConformance(options: { filter?: string; onResult?: (r: CaseResult) => void; mutations?: Mutations } = {}): Promise<CaseResult[]> {
  const mutations = options.mutations ?? {};
  const results: CaseResult[] = [];
  try {
    for (const { topic, path } of discover(options.filter)) {
      const file = loadCaseFile(path);
      const src = toolsSource(file);
      const built = await guestFor(mutations.toolsText ? { ...src, text: mutations.toolsText(src.text) } : src);
      for (const c of file.cases) {
        const t0 = performance.now();
        let failure: string | undefined;
        try {
          failure = await runCase(file, c, built, mutations);
        } catch (err) {
          failure = `the runner failed: ${(err as Error).message}`;
        }
        const r: CaseResult = { topic, file: basename(path), name: c.name, ok: failure === undefined, ms: performance.now() - t0, ...(failure ? { failure } : {}) };
        results.push(r);
        options.onResult?.(r);
      }
    }
  } finally {
    for (const g of guests.values()) await (await g).close();
    guests.clear();
  }
  return results;
}
