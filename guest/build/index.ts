// The guest build: CPython 3.11 for wasm32-wasi from Debian's sources, linked with the
// tooliscode shim, its stdlib packed, and pre-initialized (snapshotted) by tooliscode's own
// snapshot writer (runtime/snapshot/), or by Wizer when asked (TIC_SNAPSHOTTER=wizer).
//
// Every step's output is cached under the tooliscode cache folder, keyed by a hash of
// everything that step depends on (the pinned source hashes, the scripts, flags, shim,
// guest Python and the previous steps' keys), so a repeat is a no-op and a change
// rebuilds only the steps it touches.

import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { builtin } from '../../runtime/builtins.js';
import { cacheRoot, pruneAfterBuild, touchCacheEntry } from '../../runtime/cache-dir.js';
import { packageRoot } from '../../runtime/package-root.js';
import { SNAPSHOT_WRITER, initializeAndSnapshot } from '../../runtime/snapshot/initialize.js';
import { BUILD_PYTHON, GuestBuildError, SOURCES, ensureToolchain, fetchSources, sha256File } from './debian.js';

export { GuestBuildError } from './debian.js';

const GUEST_DIR = join(packageRoot(), 'guest');
const SCRIPTS = join(GUEST_DIR, 'build');
const STDLIB_ARCHIVE = 'python311.zip';
/**
 * Who takes the snapshot: `tic`, the TypeScript writer under the runtime's own WASI (the
 * default, on every platform), or `wizer`, the native binary from npm (linux-x64 only),
 * kept while the two are compared.
 */
export type Snapshotter = 'tic' | 'wizer';

/** The default snapshotter: `tic`, unless TIC_SNAPSHOTTER=wizer. */
export function defaultSnapshotter(): Snapshotter {
  const env = process.env.TIC_SNAPSHOTTER;
  if (env === undefined || env === '' || env === 'tic') return 'tic';
  if (env === 'wizer') return 'wizer';
  throw new GuestBuildError(`TIC_SNAPSHOTTER must be "tic" or "wizer", not ${JSON.stringify(env)}`);
}

/** What the snapshotter is, for cache keys and manifests: the writer's version, or Wizer's. */
export function snapshotterId(snapshotter: Snapshotter): string {
  return snapshotter === 'wizer' ? `wizer ${wizerVersion()} ${WIZER_FLAGS.join(' ')}` : SNAPSHOT_WRITER;
}

const WIZER_FLAGS = ['--init-func', 'tic_snapshot_init', '--allow-wasi', '--inherit-env', 'false', '--wasm-bulk-memory', 'true'];

export interface BaseGuest {
  /** Folder holding the files below. */
  dir: string;
  /** CPython + shim, not pre-initialized: boots Python on every instantiation. */
  coreWasm: string;
  /** The Wizer snapshot: Python booted, common stdlib imported. */
  snapshotWasm: string;
  /** Read-only stdlib, mounted in the guest at /lib/python311.zip. */
  stdlibZip: string;
  info: GuestBuildInfo;
  /** Where it was found: the installed package's prebuilt copy, the cache, or a build just now. */
  source: 'package' | 'cache' | 'built';
}

export interface GuestBuildInfo {
  key: string;
  python: string;
  /** Who took the snapshot: `tic-snapshot/<n>` (the TypeScript writer) or `wizer <version>`. */
  snapshotter: string;
  /** Wizer's version, only when Wizer took the snapshot (and in guests built before the writer). */
  wizer?: string;
  sizes: { coreWasm: number; snapshotWasm: number; stdlibZip: number };
  /** SHA-256 of each artifact: equal across machines for the same key (reproducible build). */
  sha256: { coreWasm: string; snapshotWasm: string; stdlibZip: string };
  stdlib: { modules: number; sourceBytes: number };
  preloadedModules: number;
  /** Version of the IANA time-zone database in the stdlib archive (the `tzdata` package). */
  tzdata: string;
}

export interface BuildGuestOptions {
  /** Progress lines; default: stderr with a `tic guest:` prefix. */
  log?: (line: string) => void;
  /** Cache root; default `$TIC_CACHE_DIR` or `${XDG_CACHE_HOME:-~/.cache}/tooliscode`. */
  cacheDir?: string;
  /** Who takes the base snapshot; default defaultSnapshotter(). */
  snapshotter?: Snapshotter;
}

export { cacheRoot };

function hash(...parts: (string | Uint8Array)[]): string {
  const h = builtin('node:crypto').createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? p : Buffer.from(p)).update('\0');
  return h.digest('hex').slice(0, 16);
}

function fileHash(path: string): string {
  return hash(readFileSync(path));
}

/** Hash of a folder's files (names and contents), in a stable order. */
export function treeHash(root: string): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === '__pycache__') continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else parts.push(relative(root, full), fileHash(full));
    }
  };
  walk(root);
  return hash(...parts);
}

/**
 * Wizer comes as a prebuilt binary in a per-platform npm package (no download at run
 * time), published for linux-x64 only: only `--snapshotter wizer` needs it.
 */
function wizerPackageDir(): string {
  const pkg = `@bytecodealliance/wizer-${process.platform}-${process.arch}`;
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new GuestBuildError(`${pkg} is not installed; it provides the wizer binary (linux-x64 only), needed only for the Wizer snapshotter. The default snapshotter (tic) needs nothing but Node`);
  }
}

function wizerVersion(): string {
  return (JSON.parse(readFileSync(join(wizerPackageDir(), 'package.json'), 'utf8')) as { version: string }).version;
}

function wizerBinary(): string {
  return join(wizerPackageDir(), process.platform === 'win32' ? 'wizer.exe' : 'wizer');
}

/** The cache keys of every step, computed from the repository's files alone (cheap). */
export function guestKeys(snapshotter: Snapshotter = defaultSnapshotter()) {
  const env = fileHash(join(SCRIPTS, 'env.sh'));
  const zlib = hash('zlib', SOURCES.zlib.sha256, env, fileHash(join(SCRIPTS, 'build-zlib.sh')));
  const bzip2 = hash('bzip2', SOURCES.bzip2.sha256, env, fileHash(join(SCRIPTS, 'build-bzip2.sh')));
  const xz = hash('xz', SOURCES.xz.sha256, env, fileHash(join(SCRIPTS, 'build-xz.sh')));
  const sqlite = hash('sqlite', SOURCES.sqlite.sha256, env, fileHash(join(SCRIPTS, 'build-sqlite.sh')));
  const tzdata = hash('tzdata', SOURCES.tzdata.sha256, env, fileHash(join(SCRIPTS, 'build-tzdata.sh')));
  const cpython = hash('cpython', SOURCES.cpython.sha256, zlib, bzip2, xz, sqlite, env, fileHash(join(SCRIPTS, 'build-cpython.sh')), treeHash(join(GUEST_DIR, 'patches')));
  const link = hash('link', cpython, fileHash(join(SCRIPTS, 'link.sh')), fileHash(join(GUEST_DIR, 'shim', 'tic_shim.c')));
  const stdlib = hash('stdlib', cpython, tzdata, fileHash(join(SCRIPTS, 'pack-stdlib.py')), treeHash(join(GUEST_DIR, 'python')));
  // The snapshot depends on who takes it: the writer's version (bumped with its output,
  // pinned by a test), or Wizer's version and flags and the host stub it preloads.
  const snapshot =
    snapshotter === 'wizer'
      ? hash('snapshot', link, stdlib, wizerVersion(), fileHash(join(GUEST_DIR, 'shim', 'host-stub.wat')), WIZER_FLAGS.join(' '))
      : hash('snapshot', link, stdlib, SNAPSHOT_WRITER);
  return { zlib, bzip2, xz, sqlite, tzdata, cpython, link, stdlib, snapshot };
}

function baseGuestAt(dir: string, source: BaseGuest['source']): BaseGuest {
  const guest = {
    source,
    dir,
    coreWasm: join(dir, 'core.wasm'),
    snapshotWasm: join(dir, 'guest.wasm'),
    stdlibZip: join(dir, STDLIB_ARCHIVE),
    info: JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as GuestBuildInfo,
  };
  // A guest cached before the hashes were recorded: hash it now.
  guest.info.sha256 ??= artifactHashes(guest.coreWasm, guest.snapshotWasm, guest.stdlibZip);
  return guest;
}

/** The base guest if it is already built and cached; no build, no side effects. */
export function findBaseGuest(options: { cacheDir?: string; snapshotter?: Snapshotter } = {}): BaseGuest | undefined {
  const key = guestKeys(options.snapshotter ?? defaultSnapshotter()).snapshot;
  const prebuilt = prebuiltGuestDir();
  if (existsSync(join(prebuilt, 'info.json'))) {
    const info = JSON.parse(readFileSync(join(prebuilt, 'info.json'), 'utf8')) as GuestBuildInfo;
    if (info.key === key) return baseGuestAt(prebuilt, 'package');
  }
  const dir = join(options.cacheDir ?? cacheRoot(), 'guest', key);
  if (!existsSync(join(dir, 'info.json'))) return undefined;
  touchCacheEntry(dir);
  return baseGuestAt(dir, 'cache');
}

/** Where `npm pack` puts the base guest (scripts/prepack.mjs); absent in a clone. */
export function prebuiltGuestDir(): string {
  return join(packageRoot(), 'prebuilt', 'guest');
}

/**
 * The source build needs the repository (its scripts are in the package too, but also
 * Debian's toolchain, root and minutes of CPU): an installed package never starts it
 * by surprise. TIC_BUILD_FROM_SOURCE=1 allows it anyway.
 */
function sourceBuildAllowed(): boolean {
  return existsSync(join(packageRoot(), '.git')) || process.env.TIC_BUILD_FROM_SOURCE === '1';
}

/** Runs a shell step with its output in a log file; on failure, shows the log's tail. */
function runLogged(cmd: string, args: string[], env: Record<string, string>, logFile: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(logFile);
    const child = builtin('node:child_process').spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      out.end(() => {
        if (code === 0) return resolvePromise();
        const tail = readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
        reject(new GuestBuildError(`${cmd} ${args.join(' ')} failed (exit ${code}); log: ${logFile}\n${tail}`));
      });
    });
  });
}

/** What the guest finds under /lib while it is snapshotted: guest path -> host file. */
export type LibFiles = Record<string, string>;

/**
 * Pre-initializes a guest: boots Python, imports the preloaded stdlib (and the SDK when
 * /lib/sdk is there), and writes the snapshot. The snapshot pins the preopen layout,
 * /lib then /workspace: the runtime mounts them in the same order.
 */
export async function snapshotGuest(options: { coreWasm: string; lib: LibFiles; outWasm: string; logFile: string; snapshotter?: Snapshotter }): Promise<void> {
  if ((options.snapshotter ?? defaultSnapshotter()) === 'wizer') return snapshotWithWizer(options);
  const lib: Record<string, Uint8Array> = {};
  for (const [rel, src] of Object.entries(options.lib)) lib[rel] = new Uint8Array(readFileSync(src));
  const log = createWriteStream(options.logFile);
  try {
    const { wasm, stats } = await initializeAndSnapshot({ wasm: new Uint8Array(readFileSync(options.coreWasm)), lib });
    writeFileSync(options.outWasm, wasm);
    log.write(`${SNAPSHOT_WRITER}: ${JSON.stringify(stats)}\n`);
  } catch (err) {
    log.write(`${(err as Error).stack ?? String(err)}\n`);
    throw new GuestBuildError(`snapshot failed (log: ${options.logFile}): ${(err as Error).message}`);
  } finally {
    await new Promise((r) => log.end(r));
  }
}

/** The same with the Wizer binary (linux-x64 only), kept to compare the two. */
async function snapshotWithWizer(options: { coreWasm: string; lib: LibFiles; outWasm: string; logFile: string }): Promise<void> {
  const stage = `${options.outWasm}.mnt`;
  rmSync(stage, { recursive: true, force: true });
  const libDir = join(stage, 'lib');
  const wsDir = join(stage, 'workspace');
  mkdirSync(wsDir, { recursive: true });
  const touched = [libDir, wsDir];
  for (const [rel, src] of Object.entries(options.lib)) {
    const dst = join(libDir, rel);
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, readFileSync(src));
    touched.push(dst, dirname(dst));
  }
  // Python may record what it stats: fixed times keep the snapshot closer to reproducible.
  for (const p of touched) utimesSync(p, 1e9, 1e9);
  try {
    await runLogged(
      wizerBinary(),
      [
        options.coreWasm,
        '-o', options.outWasm,
        ...WIZER_FLAGS,
        '--mapdir', `/lib::${libDir}`,
        '--mapdir', `/workspace::${wsDir}`,
        '--preload', `tic=${join(GUEST_DIR, 'shim', 'host-stub.wat')}`,
      ],
      {},
      options.logFile,
    );
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * Downloads and verifies the pinned source tarballs into the cache without building
 * (to prepare an offline build). No Debian toolchain is needed, only apt's index.
 */
export async function fetchGuestSources(options: BuildGuestOptions = {}): Promise<{ file: string; path: string; sha256: string }[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`tic guest: ${line}\n`));
  const root = options.cacheDir ?? cacheRoot();
  const paths = await fetchSources(join(root, 'sources'), join(root, 'apt'), log);
  return (Object.keys(paths) as (keyof typeof SOURCES)[]).map((k) => ({ file: SOURCES[k].file, path: paths[k], sha256: SOURCES[k].sha256 }));
}

/**
 * Builds the base guest (the one used when no tools are given) or returns it from the
 * cache. Safe to call from anything that needs a guest: it is a no-op when cached.
 */
export async function buildGuest(options: BuildGuestOptions = {}): Promise<BaseGuest> {
  const log = options.log ?? ((line: string) => process.stderr.write(`tic guest: ${line}\n`));
  const root = options.cacheDir ?? cacheRoot();
  const found = findBaseGuest({ cacheDir: root, ...(options.snapshotter ? { snapshotter: options.snapshotter } : {}) });
  if (found) return found;
  if (!sourceBuildAllowed()) {
    const prebuilt = prebuiltGuestDir();
    throw new GuestBuildError(
      existsSync(join(prebuilt, 'info.json'))
        ? `the prebuilt guest in ${prebuilt} does not match this package's guest sources (was the package modified?), and the source build runs only in a clone of the repository (or with TIC_BUILD_FROM_SOURCE=1)`
        : `this installed tooliscode has no prebuilt guest (${prebuilt}) and none is cached in ${root}; reinstall the package, or build from a clone of the repository (or set TIC_BUILD_FROM_SOURCE=1)`,
    );
  }
  const snapshotter = options.snapshotter ?? defaultSnapshotter();
  const keys = guestKeys(snapshotter);
  const finalDir = join(root, 'guest', keys.snapshot);

  // Two processes (two test runs, a build and a test) must not build the same step into
  // the same folder: each step, and this final assembly, is locked by its key, so the
  // second waits for the first and then finds it cached, while other keys go on.
  const release = await lockCache(join(root, 'locks'), log, `guest-${keys.snapshot}`);
  try {
    if (existsSync(join(finalDir, 'info.json'))) return baseGuestAt(finalDir, 'cache');
    return await buildUnlocked(root, keys, finalDir, log, snapshotter);
  } finally {
    release();
  }
}

/**
 * An exclusive lock named `name` in `dir`: a folder created atomically, holding the owner's
 * pid. A lock whose owner is gone (killed mid-build) is taken over.
 */
export async function lockCache(dir: string, log: (line: string) => void, name: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, `${name}.lock`);
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return () => rmSync(lock, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    } catch {
      // created but its pid not written yet: treat as alive for now
    }
    if (Number.isInteger(owner) && !processAlive(owner)) {
      log(`taking over the cache lock of process ${owner}, which has ended`);
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (!told) log(`waiting for another build (process ${Number.isNaN(owner) ? '?' : owner}) to finish ${name}`);
    told = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function buildUnlocked(root: string, keys: ReturnType<typeof guestKeys>, finalDir: string, log: (line: string) => void, snapshotter: Snapshotter): Promise<BaseGuest> {
  const started = Date.now();
  log(`building the base guest into ${finalDir} (first time only; cached afterwards)`);
  const stepsDir = join(root, 'steps');
  const logsDir = join(root, 'logs');
  mkdirSync(stepsDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const sysroot = join(root, 'sysroot');

  /** Runs `produce` into a fresh folder unless the step's keyed folder is complete. */
  const step = async (name: string, key: string, what: string, produce: (out: string, logFile: string) => Promise<void>) => {
    const dir = join(stepsDir, `${name}-${key}`);
    if (existsSync(join(dir, '.complete'))) {
      touchCacheEntry(dir);
      log(`${name}: cached`);
      return dir;
    }
    const release = await lockCache(join(root, 'locks'), log, `${name}-${key}`);
    try {
      if (existsSync(join(dir, '.complete'))) return dir;
      return await produceStep(name, key, what, dir, produce);
    } finally {
      release();
    }
  };
  const produceStep = async (name: string, key: string, what: string, dir: string, produce: (out: string, logFile: string) => Promise<void>) => {
    const t0 = Date.now();
    const logFile = join(logsDir, `${name}-${key}.log`);
    log(`${name}: ${what} (log: ${logFile})`);
    const tmp = `${dir}.partial`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    await produce(tmp, logFile);
    writeFileSync(join(tmp, '.complete'), new Date().toISOString());
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
    log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return dir;
  };

  const releaseSources = await lockCache(join(root, 'locks'), log, 'toolchain-and-sources');
  let tarballs: Awaited<ReturnType<typeof fetchSources>>;
  try {
    ensureToolchain(log);
    tarballs = await fetchSources(join(root, 'sources'), join(root, 'apt'), log);
  } finally {
    releaseSources();
  }
  const shEnv = { TIC_SYSROOT: sysroot };

  const zlib = await step('zlib', keys.zlib, 'building zlib for wasm32-wasi', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'build-zlib.sh')], { ...shEnv, ZLIB_TARBALL: tarballs.zlib, OUT: out, WORK: join(out, 'src') }, logFile),
  );
  const bzip2 = await step('bzip2', keys.bzip2, 'building libbz2 for wasm32-wasi', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'build-bzip2.sh')], { ...shEnv, BZIP2_TARBALL: tarballs.bzip2, OUT: out, WORK: join(out, 'src') }, logFile),
  );
  const xz = await step('xz', keys.xz, 'building liblzma for wasm32-wasi', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'build-xz.sh')], { ...shEnv, XZ_TARBALL: tarballs.xz, OUT: out, WORK: join(out, 'src') }, logFile),
  );
  const sqlite = await step('sqlite', keys.sqlite, 'building SQLite for wasm32-wasi (a few minutes)', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'build-sqlite.sh')], { ...shEnv, SQLITE_TARBALL: tarballs.sqlite, OUT: out, WORK: join(out, 'src') }, logFile),
  );
  const tzdata = await step('tzdata', keys.tzdata, 'compiling the IANA time-zone database', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'build-tzdata.sh')], { ...shEnv, TZDATA_TARBALL: tarballs.tzdata, OUT: join(out, 'pkg'), WORK: join(out, 'src') }, logFile),
  );
  const cpython = await step('cpython', keys.cpython, 'cross-building CPython 3.11.2 for wasm32-wasi (about 4 minutes on 2 cores)', (out, logFile) =>
    runLogged(
      'bash',
      [join(SCRIPTS, 'build-cpython.sh')],
      {
        ...shEnv,
        CPYTHON_TARBALL: tarballs.cpython,
        PATCHES: join(GUEST_DIR, 'patches'),
        ZLIB_PREFIX: zlib,
        BZIP2_PREFIX: bzip2,
        XZ_PREFIX: xz,
        SQLITE_PREFIX: sqlite,
        BUILD_PYTHON,
        OUT: out,
      },
      logFile,
    ),
  );
  const link = await step('link', keys.link, 'linking the shim with libpython', (out, logFile) =>
    runLogged('bash', [join(SCRIPTS, 'link.sh')], { ...shEnv, CPYTHON_BUILD: cpython, SHIM: join(GUEST_DIR, 'shim', 'tic_shim.c'), OUT: out }, logFile),
  );
  let stdlibStats = { modules: 0, sourceBytes: 0 };
  const stdlib = await step('stdlib', keys.stdlib, 'packing the standard library', async (out, logFile) => {
    await runLogged(BUILD_PYTHON, [join(SCRIPTS, 'pack-stdlib.py'), cpython, join(GUEST_DIR, 'python'), join(out, STDLIB_ARCHIVE), join(tzdata, 'pkg')], { TIC_PATH_MAP: `${root}=/tic-cache` }, logFile);
    const last = readFileSync(logFile, 'utf8').trim().split('\n').pop()!;
    writeFileSync(join(out, 'stats.json'), last);
  });
  stdlibStats = JSON.parse(readFileSync(join(stdlib, 'stats.json'), 'utf8')) as typeof stdlibStats;

  await step('snapshot', keys.snapshot, `pre-initializing Python (${snapshotter === 'wizer' ? 'Wizer' : SNAPSHOT_WRITER})`, (out, logFile) =>
    snapshotGuest({ coreWasm: join(link, 'core.wasm'), lib: { [STDLIB_ARCHIVE]: join(stdlib, STDLIB_ARCHIVE) }, outWasm: join(out, 'guest.wasm'), logFile, snapshotter }),
  );

  // Assemble the base guest: the three files the runtime needs, and what went in.
  const tmp = `${finalDir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const snapDir = join(stepsDir, `snapshot-${keys.snapshot}`);
  writeFileSync(join(tmp, 'core.wasm'), readFileSync(join(link, 'core.wasm')));
  writeFileSync(join(tmp, 'guest.wasm'), readFileSync(join(snapDir, 'guest.wasm')));
  writeFileSync(join(tmp, STDLIB_ARCHIVE), readFileSync(join(stdlib, STDLIB_ARCHIVE)));
  const preload = readFileSync(join(GUEST_DIR, 'python', '_tic', '_preload.py'), 'utf8');
  const info: GuestBuildInfo = {
    key: keys.snapshot,
    python: '3.11.2',
    snapshotter: snapshotterId(snapshotter),
    ...(snapshotter === 'wizer' ? { wizer: wizerVersion() } : {}),
    sizes: {
      coreWasm: statSync(join(tmp, 'core.wasm')).size,
      snapshotWasm: statSync(join(tmp, 'guest.wasm')).size,
      stdlibZip: statSync(join(tmp, STDLIB_ARCHIVE)).size,
    },
    sha256: artifactHashes(join(tmp, 'core.wasm'), join(tmp, 'guest.wasm'), join(tmp, STDLIB_ARCHIVE)),
    stdlib: stdlibStats,
    preloadedModules: (preload.match(/"[a-z_.]+"/g) ?? []).length,
    tzdata: /^IANA_VERSION = "([^"]+)"/m.exec(readFileSync(join(tzdata, 'pkg', 'tzdata', '__init__.py'), 'utf8'))![1]!,
  };
  writeFileSync(join(tmp, 'info.json'), JSON.stringify(info, null, 2) + '\n');
  rmSync(finalDir, { recursive: true, force: true });
  mkdirSync(dirname(finalDir), { recursive: true });
  renameSync(tmp, finalDir);
  log(`base guest ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${finalDir}`);
  pruneAfterBuild(finalDir, log, root);
  return baseGuestAt(finalDir, 'built');
}

function artifactHashes(coreWasm: string, snapshotWasm: string, stdlibZip: string): GuestBuildInfo['sha256'] {
  return { coreWasm: sha256File(coreWasm), snapshotWasm: sha256File(snapshotWasm), stdlibZip: sha256File(stdlibZip) };
}
