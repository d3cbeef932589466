// The conformance runner: reads case files (conformance/cases/<topic>/, or any folder
// given with --cases), builds the guest each tool list needs (cached by content), runs
// the cells in fresh sessions with scripted handlers, and checks what must hold. Cases
// are data; case-file.ts reads their format and this file is the whole interpreter.

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve, sep } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { build } from '../compiler/build.js';
import { CompileError, formatDiagnostic } from '../compiler/diagnostics.js';
import { cacheRoot, guestKeys, treeHash } from '../guest/build/index.js';
import { pruneAfterBuild, touchCacheEntry } from '../runtime/cache-dir.js';
import { type Guest, loadGuest } from '../runtime/guest.js';
import { packageRoot } from '../runtime/package-root.js';
import type { Handlers, Limits, RunResult } from '../runtime/session.js';
import { type Case, type CaseFile, type CellExpect, CaseFormatError, FIXTURES_DIR, type FileContent, type HandlerSpec, type PyrightCheck, loadCaseFile } from './case-file.js';
import { type PyrightDiagnostic, errorsOf, pyright } from './pyright.js';

export { CaseFormatError, FIXTURES_DIR, loadCaseFile } from './case-file.js';
export type { Case, CaseFile, CellExpect, HandlerSpec } from './case-file.js';

export const CASES_DIR = join(packageRoot(), 'conformance', 'cases');

export interface CaseResult {
  topic: string;
  file: string;
  name: string;
  ok: boolean;
  /** What did not hold, when !ok. */
  failure?: string;
  ms: number;
}

/**
 * Ways to break the system under test on purpose. The suite's own tests use them to show
 * that every topic has cases that fail when the runtime or the compiler misbehaves.
 */
export interface Mutations {
  /** Rewrites each tool list before it is built (a compiler that reads it wrong). */
  toolsText?: (text: string) => string;
  /** Rewrites a build error (a compiler that reports it badly). */
  buildError?: (message: string) => string;
  /** Rewrites prompt.md (a compiler that describes the tools wrong). */
  prompt?: (text: string) => string;
  /** Wraps the handlers (a runtime that delivers calls wrong). */
  handlers?: (handlers: Handlers) => Handlers;
  /** Rewrites a session's limits (a runtime that enforces them wrong). */
  limits?: (limits: Limits) => Limits;
  /** Rewrites a cell's result (a runtime that reports it wrong). */
  result?: (result: RunResult) => RunResult;
  /** Runs on the workspace folder after each cell (a runtime that writes files back wrong). */
  workspace?: (dir: string) => void;
}

export interface RunOptions {
  /** A folder (or one file) of case files in the same format; default: the suite's own. */
  casesDir?: string;
  /** Only topics or case files whose name contains this. */
  filter?: string;
  /** Only these topics (exact names). */
  topics?: string[];
  onResult?: (r: CaseResult) => void;
  mutations?: Mutations;
  /** Stop at the first failing case (the mutation tests need only one). */
  bail?: boolean;
}

/**
 * Case files by topic. A topic is the first folder under the root (`cases/calls/x.yaml`
 * is in `calls`); files directly in the root take the root's own name.
 */
export function discover(root = CASES_DIR, filter?: string): { topic: string; path: string }[] {
  const top = resolve(root);
  if (!existsSync(top)) throw new CaseFormatError(`${root}: no such file or folder`);
  const out: { topic: string; path: string }[] = [];
  const isCaseFile = (name: string) => /\.(ya?ml|json)$/.test(name);
  if (statSync(top).isFile()) return isCaseFile(top) ? [{ topic: basename(resolve(top, '..')), path: top }] : [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (isCaseFile(name)) {
        const rel = relative(top, full).split(sep);
        const topic = rel.length > 1 ? rel[0]! : basename(top);
        if (filter && !topic.includes(filter) && !name.includes(filter)) continue;
        out.push({ topic, path: full });
      }
    }
  };
  walk(top);
  return out;
}

interface Source {
  name: string;
  text: string;
}

function sourceOf(file: string, tools: unknown, toolsText: string | undefined): Source {
  if (toolsText !== undefined) return { name: file, text: toolsText };
  if (typeof tools === 'string') {
    const fixture = tools.slice('fixture:'.length);
    return { name: file === 'tools.json' ? `${fixture}.json` : file, text: readFileSync(join(FIXTURES_DIR, `${fixture}.json`), 'utf8') };
  }
  return { name: file, text: /\.ya?ml$/.test(file) ? toYaml(tools) : JSON.stringify(tools) };
}

/** The tool files a case file builds, as the compiler will read them. */
function sourcesOf(file: CaseFile): Source[] {
  if (file.inputs) return file.inputs.map((i) => sourceOf(i.file, i.tools, i.toolsText));
  return [sourceOf(file.toolsFile ?? 'tools.json', file.tools, file.toolsText)];
}

let toolchainKey: string | undefined;

/** What a build depends on besides its input: the compiler, its templates and the base guest. */
function toolchain(): string {
  toolchainKey ??= [treeHash(join(packageRoot(), 'build', 'compiler')), treeHash(join(packageRoot(), 'templates')), guestKeys().snapshot].join('-');
  return toolchainKey;
}

type Built = { dir: string; warnings: string[]; prompt: string } | { error: string };

/**
 * Builds (or reuses) the guest of a case file's tool lists; a build error is returned, not
 * thrown. A file without cells needs no guest, so it skips the snapshot (the slow step).
 */
async function buildFor(sources: Source[], file: CaseFile): Promise<Built> {
  const snapshot = file.cases.some((c) => c.cells);
  const options = { namespaces: file.namespaces, promptStyle: file.promptStyle, snapshot };
  const hash = createHash('sha256').update(toolchain()).update(JSON.stringify(options));
  for (const s of sources) hash.update('\0').update(s.name).update('\0').update(s.text);
  const root = join(cacheRoot(), 'conformance', hash.digest('hex').slice(0, 16));
  const out = join(root, 'dist');
  const warningsFile = join(root, 'warnings.json');
  const done = () => ({ dir: out, warnings: JSON.parse(readFileSync(warningsFile, 'utf8')) as string[], prompt: readFileSync(join(out, 'prompt.md'), 'utf8') });
  if (existsSync(join(out, 'manifest.json')) && existsSync(warningsFile)) {
    touchCacheEntry(root);
    return done();
  }
  const inputs = sources.map((s) => join(root, 'in', s.name));
  mkdirSync(join(root, 'in'), { recursive: true });
  sources.forEach((s, i) => writeFileSync(inputs[i]!, s.text));
  const local = (text: string) => text.replaceAll(`${join(root, 'in')}/`, '');
  try {
    const r = await build({
      inputs,
      outDir: out,
      log: () => {},
      snapshot,
      ...(file.namespaces ? { namespaces: file.namespaces } : {}),
      ...(file.promptStyle ? { promptStyle: file.promptStyle } : {}),
    });
    writeFileSync(warningsFile, JSON.stringify(r.warnings.map((w) => local(formatDiagnostic(w)))));
  } catch (err) {
    rmSync(out, { recursive: true, force: true });
    if (err instanceof CompileError) return { error: local(err.message) };
    throw err;
  }
  pruneAfterBuild(root, () => {});
  return done();
}

interface Recorder {
  calls: { tool: string; args: unknown }[];
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
        return spec.echo ? args : structuredClone(spec.reply);
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

const show = (v: unknown) => JSON.stringify(v);
/** JSON with the keys of every object sorted: arguments are objects, their order is no contract. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** What a workspace path holds after a cell, against what the case expects there. */
function checkFile(workspace: string, path: string, want: NonNullable<CellExpect['files']>[string]): string | undefined {
  const full = join(workspace, path);
  const exists = existsSync(full);
  if (want === null) return exists ? `workspace ${path}: expected absent, but it exists` : undefined;
  if (typeof want === 'object' && 'dir' in want) return exists && statSync(full).isDirectory() ? undefined : `workspace ${path}: expected a folder`;
  if (!exists || !statSync(full).isFile()) return `workspace ${path}: expected a file, ${exists ? 'got a folder' : 'absent'}`;
  const bytes = readFileSync(full);
  if (typeof want === 'string') return bytes.toString('utf8') === want ? undefined : `workspace ${path}: expected ${show(want)}, got ${show(bytes.toString('utf8').slice(0, 300))}`;
  if ('base64' in want) return bytes.toString('base64') === want.base64 ? undefined : `workspace ${path}: expected base64 ${want.base64}, got ${bytes.toString('base64').slice(0, 300)}`;
  if (want.size !== undefined && bytes.length !== want.size) return `workspace ${path}: expected ${want.size} bytes, got ${bytes.length}`;
  return sha256(bytes) === want.sha256 ? undefined : `workspace ${path}: expected sha256 ${want.sha256}, got ${sha256(bytes)}`;
}

/** The first expectation of `e` that `r` breaks, or undefined. */
function check(e: CellExpect, r: RunResult, rec: Recorder, workspace: string, closed: boolean): string | undefined {
  const ok = e.ok ?? (e.error === undefined && !e.sessionEnded);
  if (r.ok !== ok) return `ok: expected ${ok}, got ${r.ok}${r.error ? ` (${r.error.type}: ${r.error.message})` : ''}`;
  if (e.stdout !== undefined && r.stdout !== e.stdout) return `stdout: expected ${show(e.stdout)}, got ${show(r.stdout.slice(0, 1000))}`;
  if (e.stdoutMatches !== undefined && !matches(e.stdoutMatches, r.stdout)) return `stdout: expected to match /${e.stdoutMatches}/, got ${show(r.stdout.slice(0, 300))}`;
  if (e.stderr !== undefined && r.stderr !== e.stderr) return `stderr: expected ${show(e.stderr)}, got ${show(r.stderr.slice(0, 1000))}`;
  if (e.stderrMatches !== undefined && !matches(e.stderrMatches, r.stderr)) return `stderr: expected to match /${e.stderrMatches}/, got ${show(r.stderr.slice(0, 300))}`;
  if (e.value !== undefined && (r.value ?? null) !== e.value) return `value: expected ${show(e.value)}, got ${show(r.value ?? null)}`;
  if (e.valueMatches !== undefined && !matches(e.valueMatches, r.value ?? '')) return `value: expected to match /${e.valueMatches}/, got ${show(r.value ?? null)}`;
  if (e.error) {
    if (e.error.type !== undefined && r.error?.type !== e.error.type) return `error type: expected ${e.error.type}, got ${r.error?.type}`;
    if (e.error.message !== undefined && !matches(e.error.message, r.error?.message ?? '')) return `error message: expected to match /${e.error.message}/, got ${show(r.error?.message)}`;
    if (e.error.traceback !== undefined && !matches(e.error.traceback, r.error?.traceback ?? '')) return `traceback: expected to match /${e.error.traceback}/, got ${show(r.error?.traceback)}`;
  }
  if (e.calls !== undefined && canonical(rec.calls) !== canonical(e.calls)) return `calls: expected ${show(e.calls)}, got ${show(rec.calls)}`;
  if (e.maxConcurrent !== undefined && rec.most !== e.maxConcurrent) return `calls in flight at once: expected ${e.maxConcurrent}, got ${rec.most}`;
  for (const [path, want] of Object.entries(e.files ?? {})) {
    const failure = checkFile(workspace, path, want);
    if (failure) return failure;
  }
  if (e.sessionEnded !== undefined && closed !== e.sessionEnded) return `session ended: expected ${e.sessionEnded}, got ${closed}`;
  return undefined;
}

/**
 * Type-checks every snippet of a case file in one pyright run (pyright's start dominates):
 * each snippet is its own module next to a copy of the SDK, as `tools` is imported in a cell.
 */
function typeCheckAll(dist: string, snippets: string[]): PyrightDiagnostic[][] {
  const dir = mkdtempSync(join(tmpdir(), 'tic-conf-py-'));
  try {
    const sdk = join(dist, 'sdk');
    for (const name of readdirSync(sdk)) cpSync(join(sdk, name), join(dir, name), { recursive: true });
    snippets.forEach((code, i) => writeFileSync(join(dir, `usage_${i}.py`), `import tools\n${code}\n`));
    const errors = errorsOf(pyright(dir));
    return snippets.map((_, i) => errors.filter((d) => d.file.endsWith(`${sep}usage_${i}.py`)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function judge(check: PyrightCheck, errors: PyrightDiagnostic[]): string | undefined {
  const messages = errors.map((e) => `line ${e.range.start.line}: ${e.message.split('\n')[0]}`);
  if (check.errors !== undefined && errors.length !== check.errors) return `expected ${check.errors} error(s), got ${errors.length}: ${show(messages)}`;
  if (check.errorMatches !== undefined && !errors.some((e) => matches(check.errorMatches!, e.message))) return `expected an error matching /${check.errorMatches}/, got ${show(messages)}`;
  return undefined;
}

function checkPrompt(c: Case, prompt: string): string | undefined {
  for (const text of c.prompt?.contains ?? []) if (!prompt.includes(text)) return `prompt.md: expected to contain ${show(text)}`;
  for (const text of c.prompt?.notContains ?? []) if (prompt.includes(text)) return `prompt.md: expected not to contain ${show(text)}`;
  for (const re of c.prompt?.matches ?? []) if (!matches(re, prompt)) return `prompt.md: expected to match /${re}/`;
  return undefined;
}

function writeWorkspace(dir: string, files: Record<string, FileContent | null>): void {
  for (const [path, content] of Object.entries(files)) {
    if (content === null) {
      rmSync(join(dir, path), { recursive: true, force: true });
      continue;
    }
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    rmSync(full, { force: true });
    if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, full);
    else writeFileSync(full, typeof content === 'string' ? content : Buffer.from(content.base64, 'base64'));
  }
}

/** One case file at a time: its build, its guest (closed when the file is done), its type checks. */
class FileRun {
  private guest: Promise<Guest> | undefined;
  private verdicts: PyrightDiagnostic[][] | undefined;

  constructor(
    private readonly file: CaseFile,
    private readonly built: Built,
    private readonly mutations: Mutations,
  ) {}

  async close(): Promise<void> {
    if (this.guest) await (await this.guest).close();
  }

  private pyrightOf(dist: string, c: Case): PyrightDiagnostic[][] {
    const all = this.file.cases.flatMap((x) => x.pyright ?? []);
    this.verdicts ??= typeCheckAll(dist, all.map((p) => p.code));
    const first = all.indexOf(c.pyright![0]!);
    return this.verdicts.slice(first, first + c.pyright!.length);
  }

  async run(c: Case): Promise<string | undefined> {
    const { built, mutations } = this;
    if (c.buildError !== undefined) {
      if (!('error' in built)) return `tic build: expected an error matching /${c.buildError}/, but it built`;
      const error = mutations.buildError ? mutations.buildError(built.error) : built.error;
      return matches(c.buildError, error) ? undefined : `tic build error: expected to match /${c.buildError}/, got ${show(error)}`;
    }
    if ('error' in built) return `tic build failed: ${built.error}`;
    if (c.buildWarning !== undefined && !built.warnings.some((w) => matches(c.buildWarning!, w))) {
      return `tic build: expected a warning matching /${c.buildWarning}/, got ${show(built.warnings)}`;
    }
    if (c.prompt) {
      const failure = checkPrompt(c, mutations.prompt ? mutations.prompt(built.prompt) : built.prompt);
      if (failure) return failure;
    }
    if (c.pyright) {
      const verdicts = this.pyrightOf(built.dir, c);
      for (const [i, p] of c.pyright.entries()) {
        const failure = judge(p, verdicts[i]!);
        if (failure) return `pyright ${i + 1}: ${failure}`;
      }
    }
    return c.cells ? this.runCells(c, built.dir) : undefined;
  }

  private async runCells(c: Case, dist: string): Promise<string | undefined> {
    const { mutations } = this;
    this.guest ??= loadGuest(dist, { warm: 1 });
    const guest = await this.guest;
    const newFolder = () => join(mkdtempSync(join(tmpdir(), 'tic-conf-')), 'workspace');
    let workspace = newFolder();
    mkdirSync(workspace);
    const folders = [workspace];
    writeWorkspace(workspace, c.workspace ?? {});
    const rec: Recorder = { calls: [], inFlight: 0, most: 0, streamed: '' };
    const scripted = scriptedHandlers(this.file.handlers ?? {}, rec);
    const handlers = mutations.handlers ? mutations.handlers(scripted) : scripted;
    const limits = c.limits && mutations.limits ? mutations.limits(c.limits) : c.limits;
    const open = () => guest.createSession({ handlers, workspace, ...(limits ? { limits } : {}), ...(c.outputSchema ? { outputSchema: c.outputSchema } : {}), ...(c.check ? { check: c.check } : {}) });
    let session = await open();
    try {
      for (const [i, cell] of c.cells!.entries()) {
        if (cell.newSession) {
          await session.close();
          workspace = newFolder();
          folders.push(workspace);
          session = await open();
        }
        writeWorkspace(workspace, cell.workspace ?? {});
        rec.calls = [];
        rec.most = 0;
        rec.streamed = '';
        const raw = await session.run(cell.code, { onStdout: (t) => (rec.streamed += t) });
        const r = mutations.result ? mutations.result(raw) : raw;
        mutations.workspace?.(workspace);
        const failure = check(cell.expect ?? {}, r, rec, workspace, session.isClosed);
        if (failure) return `cell ${i + 1}: ${failure}`;
      }
      return undefined;
    } finally {
      await session.close();
      for (const f of folders) rmSync(join(f, '..'), { recursive: true, force: true });
    }
  }
}

/**
 * Runs the case files; `onResult` sees each case as it finishes. Every file is read and
 * checked first: a file that breaks the format stops the run before anything is built,
 * with one line per bad file (CaseFormatError).
 */
export async function runConformance(options: RunOptions = {}): Promise<CaseResult[]> {
  const mutations = options.mutations ?? {};
  const found = discover(options.casesDir ?? CASES_DIR, options.filter).filter((f) => !options.topics || options.topics.includes(f.topic));
  const problems: string[] = [];
  const files = found.flatMap(({ topic, path }) => {
    try {
      return [{ topic, path, file: loadCaseFile(path) }];
    } catch (err) {
      if (!(err instanceof CaseFormatError)) throw err;
      problems.push(err.message);
      return [];
    }
  });
  if (problems.length) throw new CaseFormatError(problems.join('\n'));
  const results: CaseResult[] = [];
  for (const { topic, path, file } of files) {
    const sources = sourcesOf(file).map((s) => (mutations.toolsText ? { ...s, text: mutations.toolsText(s.text) } : s));
    const run = new FileRun(file, await buildFor(sources, file), mutations);
    try {
      for (const c of file.cases) {
        const t0 = performance.now();
        let failure: string | undefined;
        try {
          failure = await run.run(c);
        } catch (err) {
          failure = `the runner failed: ${(err as Error).message}`;
        }
        const r: CaseResult = { topic, file: basename(path), name: c.name, ok: failure === undefined, ms: performance.now() - t0, ...(failure ? { failure } : {}) };
        results.push(r);
        options.onResult?.(r);
        if (failure && options.bail) return results;
      }
    } finally {
      await run.close();
    }
  }
  return results;
}
