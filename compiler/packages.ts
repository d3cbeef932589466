// The packages stage of `tic build`: the user's own Python in the guest.
// --package PATH...  -> packages.zip (guest/build/pack-packages.py: .pyc + sources + metadata,
//                       native files left out), mounted read-only at /lib/packages.zip
// --preload NAME,...  -> imported before the snapshot
// --setup FILE.py     -> run in the snapshot after the SDK; its globals are every session's
// Before the snapshot (where an error is hard to read), the same steps run once in a throwaway guest from the
// base snapshot, so a failing import or setup stops the build with its Python traceback,
// and the setup's output and the names it defines are known for the prompt.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { BUILD_PYTHON } from '../guest/build/debian.js';
import type { BaseGuest, LibFiles } from '../guest/build/index.js';
import { type GuestImage, GuestInstance, compileGuest, lazyFileBytes } from '../runtime/instance.js';
import { packageRoot } from '../runtime/package-root.js';
import type { LazyBytes } from '../runtime/wasi/memfs.js';
import { CompileError, type Diagnostic } from './diagnostics.js';

export const PACKAGES_ARCHIVE = 'packages.zip';
const ARCHIVE_ROOT = `/lib/${PACKAGES_ARCHIVE}`;
const SETUP_DIR = 'setup';
/** The setup's folder is copied under /lib/setup for the snapshot: keep it small. */
const SETUP_FOLDER_MAX_BYTES = 64 << 20;
const SETUP_FOLDER_SKIP = new Set(['node_modules', '__pycache__']);
/** A setup or import that runs longer than this at build time is stopped. */
const CHECK_TIMEOUT_MS = 5 * 60_000;

export interface ManifestPackage {
  /** The distribution's name from its metadata, or the module's name without metadata. */
  name: string;
  version: string | null;
  /** Top-level modules it brings (what `import` takes). */
  modules: string[];
  /** sha256 over its files' archive paths and contents. */
  sha256: string;
  /** The --package argument it came from. */
  source: string;
  /** Its `.dist-info` / `.egg-info` folder in the archive, or null: `importlib.metadata` cannot answer for it. */
  metadata: string | null;
  /** Native files left out of it. */
  leftOut: string[];
}

export interface ManifestSetup {
  file: string;
  sha256: string;
  /** Public names the setup defines, in definition order. */
  names: string[];
}

export interface UserPythonOptions {
  packages?: string[];
  preload?: string[];
  setup?: string;
  outDir: string;
  base: BaseGuest;
  /** The SDK's module (`tools`): no package may take its name. */
  moduleName: string;
  /** Files of the SDK by their path under /lib, with the config lines of this stage still to add. */
  sdkLib: Map<string, string>;
  /** The SDK config module's path under /lib (its text gets this stage's lines appended). */
  sdkConfig: string;
  snapshot: boolean;
  log: (line: string) => void;
}

export interface UserPython {
  packages: ManifestPackage[];
  preload: string[];
  setup?: ManifestSetup;
  /** Lines for the SDK config module (`_tic_sdk.py`) that _tic reads at init. */
  sdkConfigLines: string;
  /** Extra files under /lib while the snapshot is taken (the archive, the setup's folder). */
  snapshotLib: LibFiles;
  /** Extra files of the output folder mounted under /lib at run time. */
  runtimeLib: string[];
  /** One line each for prompt.md. */
  promptNotes: string[];
  warnings: Diagnostic[];
}

const fail = (file: string, message: string): never => {
  throw new CompileError([{ severity: 'error', file, path: '', message }]);
};

interface PackReport {
  packages: (ManifestPackage & { nativeParents: string[] })[];
  warnings: { source: string; message: string }[];
  errors: { source: string; message: string }[];
}

/** Runs pack-packages.py: the archive written to `outZip`, or the inputs' errors thrown. */
export async function packPackages(inputs: string[], outZip: string, stdlibZip: string, reserved: Record<string, string>): Promise<PackReport> {
  const request = { inputs, out: outZip, stdlibZip, archiveRoot: ARCHIVE_ROOT, reserved };
  const script = join(packageRoot(), 'guest', 'build', 'pack-packages.py');
  // A fixed hash seed: frozenset constants are marshalled in iteration order.
  const child = spawn(BUILD_PYTHON, [script], { env: { ...process.env, PYTHONHASHSEED: '0' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(JSON.stringify(request));
  const status = await new Promise<number | null>((resolvePromise) => {
    child.on('error', (err) => {
      stderr = `cannot run ${BUILD_PYTHON}: ${err.message}`;
      resolvePromise(-1);
    });
    child.on('close', resolvePromise);
  });
  if (status !== 0) fail(inputs.join(', '), `packing the packages failed:\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
  const report = JSON.parse(stdout) as PackReport;
  if (report.errors.length) throw new CompileError(report.errors.map((e) => ({ severity: 'error', file: e.source, path: '', message: e.message })));
  return report;
}

/** The setup's folder, for the snapshot only: guest path under /lib -> host file. */
function setupFolder(setup: string, outDir: string): LibFiles {
  const root = dirname(resolve(setup));
  const out = resolve(outDir);
  const files: LibFiles = {};
  let bytes = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (name.startsWith('.') || SETUP_FOLDER_SKIP.has(name) || full === out) continue;
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) {
        bytes += st.size;
        if (bytes > SETUP_FOLDER_MAX_BYTES) {
          fail(setup, `the setup's folder ${root} holds more than ${SETUP_FOLDER_MAX_BYTES >> 20} MB; it is read at build time, so put the setup and the files it reads in a folder of their own`);
        }
        files[`${SETUP_DIR}/${relative(root, full).split('\\').join('/')}`] = full;
      }
    }
  };
  walk(root);
  return files;
}

interface CheckReport {
  imports: ({ name: string; missing: boolean; traceback: string } | null)[];
  setup?: { error?: string; names?: { name: string; kind: string }[] };
}

/** Python of the check: the same init steps as the snapshot (_tic), each failure with its traceback. */
function checkCells(names: string[]): [string, string] {
  const helpers =
    'import importlib as _il, json as _json, sys as _sys, traceback as _tb, _tic as _t\n' +
    'def _trace(e):\n' +
    '    te = _tb.TracebackException(type(e), e, e.__traceback__)\n' +
    '    te.stack = _tb.StackSummary.from_list([f for f in te.stack if not f.filename.startswith(("<cell-", "/lib/python311.zip/_tic/", "/lib/python311.zip/importlib/"))])\n' +
    '    return "".join(te.format())\n' +
    'class _Json:\n' +
    '    def __init__(self, v): self.v = v\n' +
    '    def __repr__(self): return _json.dumps(self.v)\n';
  const imports =
    helpers +
    '_t._load_sdk()\n' +
    '_sdk = _sys.modules.get("_tic_sdk")\n' +
    'for _p in getattr(_sdk, "PATHS", ()): _sys.path.append(_p)\n' +
    '_r = []\n' +
    `for _n in ${JSON.stringify(names)}:\n` +
    '    try:\n' +
    '        _il.import_module(_n)\n' +
    '        _r.append(None)\n' +
    '    except BaseException as _e:\n' +
    '        _r.append({"name": _n, "missing": isinstance(_e, ModuleNotFoundError) and _e.name == _n.split(".")[0], "traceback": _trace(_e)})\n' +
    '_Json({"imports": _r})\n';
  const setup =
    'try:\n' +
    '    _added = _t._run_setup()\n' +
    '    _ns = _t._namespace\n' +
    '    _s = {"names": [{"name": n, "kind": "module" if isinstance(_ns[n], type(_sys)) else "class" if isinstance(_ns[n], type) else "function" if callable(_ns[n]) else "value"} for n in _added if not n.startswith("_") and n in _ns]}\n' +
    'except BaseException as _e:\n' +
    '    _s = {"error": _trace(_e)}\n' +
    '_Json({"setup": _s})\n';
  return [imports, setup];
}

/** The base snapshot, compiled once per process (a build checks its packages in it). */
const compiled = new Map<string, Promise<GuestImage>>();
function baseImage(wasm: string): Promise<GuestImage> {
  let image = compiled.get(wasm);
  if (!image) compiled.set(wasm, (image = compileGuest(wasm, {}, true)));
  return image;
}

/** The packages stage; a no-op (and no archive) when none of its options is given. */
export async function userPython(options: UserPythonOptions): Promise<UserPython> {
  const archivePath = join(options.outDir, PACKAGES_ARCHIVE);
  const inputs = options.packages ?? [];
  const preload = options.preload ?? [];
  const result: UserPython = { packages: [], preload, sdkConfigLines: '', snapshotLib: {}, runtimeLib: [], promptNotes: [], warnings: [] };
  rmSync(archivePath, { force: true }); // never a stale archive from an earlier build
  if (!inputs.length && !preload.length && !options.setup) return result;

  const bad = preload.find((n) => !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(n));
  if (bad !== undefined) fail('--preload', `${JSON.stringify(bad)} is not a module name (NAME or NAME.SUB, comma-separated)`);
  if (options.setup !== undefined) {
    if (!options.setup.endsWith('.py') || !existsSync(options.setup) || !statSync(options.setup).isFile()) fail(options.setup, '--setup takes an existing Python file (FILE.py)');
    if (!options.snapshot) fail(options.setup, '--setup runs once, when the snapshot is taken: it cannot be combined with --no-snapshot');
  }

  // 1. The archive.
  let report: PackReport = { packages: [], warnings: [], errors: [] };
  if (inputs.length) {
    const reserved: Record<string, string> = {
      [options.moduleName]: `the SDK (${options.moduleName})`,
      _tic: 'the tooliscode runtime (_tic)',
      _tic_sdk: 'the SDK config (_tic_sdk)',
      _tic_host: "the guest's host module (_tic_host)",
    };
    options.log(`packages: packing ${inputs.join(', ')}`);
    report = await packPackages(inputs, archivePath, options.base.stdlibZip, reserved);
    for (const w of report.warnings) result.warnings.push({ severity: 'warning', file: w.source, path: '', message: w.message });
    result.packages = report.packages.map(({ nativeParents: _, ...p }) => p);
    options.log(`packages: ${result.packages.map((p) => `${p.name}${p.version ? ` ${p.version}` : ''}`).join(', ')} -> ${PACKAGES_ARCHIVE} (${(statSync(archivePath).size / 1024).toFixed(0)} kB)`);
    const bare = result.packages.filter((p) => !p.metadata);
    if (bare.length) options.log(`packages: no .dist-info/.egg-info for ${bare.map((p) => p.name).join(', ')}: importlib.metadata will not know them`);
    result.snapshotLib[PACKAGES_ARCHIVE] = archivePath;
    result.runtimeLib.push(PACKAGES_ARCHIVE);
  }
  const setupGuestPath = options.setup ? `/lib/${SETUP_DIR}/${basename(options.setup)}` : undefined;
  result.sdkConfigLines =
    (inputs.length ? `PATHS = [${JSON.stringify(ARCHIVE_ROOT)}]\n` : '') +
    (preload.length ? `PRELOAD = [${preload.map((n) => JSON.stringify(n)).join(', ')}]\n` : '') +
    (setupGuestPath ? `SETUP = ${JSON.stringify(setupGuestPath)}\n` : '');
  if (options.setup) Object.assign(result.snapshotLib, setupFolder(options.setup, options.outDir));

  // 2. The check: preloads, and every package that lost native files, imported in a throwaway guest.
  const owner = new Map<string, PackReport['packages'][number]>();
  for (const p of report.packages) for (const m of p.modules) owner.set(m, p);
  const names = [...preload];
  for (const p of report.packages) {
    if (!p.leftOut.length) continue;
    for (const m of [...p.modules.filter((x) => !x.startsWith('_')), ...p.nativeParents]) if (!names.includes(m)) names.push(m);
  }
  const lib: Record<string, Uint8Array | LazyBytes> = { 'python311.zip': lazyFileBytes(options.base.stdlibZip) };
  for (const [rel, text] of options.sdkLib) lib[rel] = new TextEncoder().encode(rel === options.sdkConfig ? text + result.sdkConfigLines : text);
  for (const [rel, file] of Object.entries(result.snapshotLib)) lib[rel] = lazyFileBytes(file);
  const image = { ...(await baseImage(options.base.snapshotWasm)), lib };
  const deadline = Date.now() + CHECK_TIMEOUT_MS;
  const guest = new GuestInstance(image, { poll: () => (Date.now() > deadline ? 1 : 0) });
  const [importCell, setupCell] = checkCells(names);
  const imported = guest.run(importCell);
  if (!imported.ok || imported.value === undefined) fail(inputs.join(', ') || '--preload', `the import check could not run: ${imported.error?.traceback ?? imported.stderr}`);
  const errors: Diagnostic[] = [];
  (JSON.parse(imported.value!) as CheckReport).imports.forEach((failure, i) => {
    if (!failure) return;
    const p = owner.get(failure.name.split('.')[0]!);
    const isPreload = i < preload.length;
    let message: string;
    if (failure.missing && !p) {
      const bundled = [...owner.keys()].sort();
      message = `no module named ${failure.name.split('.')[0]} in the standard library${bundled.length ? ` or the packages (${bundled.join(', ')})` : ' and no --package gives one'}`;
    } else {
      const what = p ? `package ${p.name}${p.version ? ` ${p.version}` : ''}` : `module ${failure.name}`;
      message = `${isPreload ? `--preload ${failure.name}: ` : ''}${what} fails to import (import ${failure.name})` + (p?.leftOut.length ? `; native files were left out of it, which the guest cannot run: ${p.leftOut.join(', ')}` : '') + `\n${failure.traceback.trimEnd()}`;
    }
    errors.push({ severity: 'error', file: p?.source ?? `--preload ${failure.name}`, path: '', message });
  });
  if (errors.length) throw new CompileError(errors);

  // 3. The setup, after the SDK and the preloads: its output shown, its names for the prompt.
  if (options.setup) {
    options.log(`setup: running ${options.setup}`);
    const ran = guest.run(setupCell);
    for (const line of `${ran.stdout}${ran.stderr}`.split('\n').filter(Boolean)) options.log(`setup: ${line}`);
    const setup = ran.value ? (JSON.parse(ran.value) as CheckReport).setup : undefined;
    if (!setup || setup.error !== undefined) {
      const hostDir = dirname(resolve(options.setup));
      const trace = (setup?.error ?? ran.error?.traceback ?? 'no result').split(`/lib/${SETUP_DIR}/`).join(`${hostDir}/`);
      fail(options.setup, `the setup failed:\n${trace.trimEnd()}`);
    }
    const names = (setup!.names ?? []).filter((n) => n.kind !== 'module');
    result.setup = { file: options.setup, sha256: createHash('sha256').update(readFileSync(options.setup)).digest('hex'), names: names.map((n) => n.name) };
    if (names.length) result.promptNotes.push(`Defined by the setup script (already in globals): ${names.map((n) => (n.kind === 'function' ? `${n.name}()` : n.name)).join(', ')}.`);
  }
  const listed = result.packages.flatMap((p) =>
    p.modules.filter((m) => !m.startsWith('_')).map((m) => `${m}${p.version ? ` ${p.version}` : ''}${preload.some((n) => n === m || n.startsWith(`${m}.`)) ? ' (preloaded)' : ''}`),
  );
  if (listed.length) result.promptNotes.unshift(`Installed besides the standard library (import as usual): ${listed.join(', ')}.`);
  const stdlibPreloads = preload.filter((n) => !owner.has(n.split('.')[0]!));
  if (stdlibPreloads.length) result.promptNotes.splice(listed.length ? 1 : 0, 0, `Preloaded (import is free): ${stdlibPreloads.join(', ')}.`);
  return result;
}
