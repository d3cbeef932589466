// Debian's side of the guest build: the cross toolchain from Debian packages, and the
// upstream source tarballs from Debian's source archive, found through apt itself so the
// machine's own mirror configuration is used and nothing else is contacted.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtin } from '../../runtime/builtins.js';


export interface ToolchainPart {
  /** Debian package that provides it. */
  pkg: string;
  /** A file whose presence shows the package is installed. */
  file: string;
}

export const TOOLCHAIN: ToolchainPart[] = [
  { pkg: 'clang-16', file: '/usr/lib/llvm-16/bin/clang' },
  { pkg: 'lld-16', file: '/usr/lib/llvm-16/bin/wasm-ld' },
  { pkg: 'llvm-16', file: '/usr/lib/llvm-16/bin/llvm-ar' },
  { pkg: 'wasi-libc', file: '/usr/lib/wasm32-wasi/libc.a' },
  { pkg: 'libclang-rt-16-dev-wasm32', file: '/usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a' },
  // The build Python: same 3.11 bytecode as the guest (freezes modules, compiles the stdlib).
  { pkg: 'python3.11', file: '/usr/bin/python3.11' },
  { pkg: 'make', file: '/usr/bin/make' },
  { pkg: 'bzip2', file: '/bin/bzip2' },
  { pkg: 'patch', file: '/usr/bin/patch' },
  { pkg: 'xz-utils', file: '/usr/bin/xz' },
  // SQLite's source tree generates its amalgamation (sqlite3.c) with Tcl scripts.
  { pkg: 'tcl', file: '/usr/bin/tclsh' },
  // The time-zone compiler: the IANA database ships as text, the guest reads TZif files.
  { pkg: 'libc-bin', file: '/usr/sbin/zic' },
];

export const BUILD_PYTHON = '/usr/bin/python3.11';

export interface SourceTarball {
  /** Debian source package whose orig tarball this is. */
  pkg: string;
  file: string;
  sha256: string;
}

export const SOURCES = {
  cpython: {
    pkg: 'python3.11',
    file: 'python3.11_3.11.2.orig.tar.gz',
    sha256: '2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849',
  },
  zlib: {
    pkg: 'zlib',
    file: 'zlib_1.2.13.dfsg.orig.tar.bz2',
    sha256: '71feb7947e3c00ef125f83b79a4e529bde31171e5babe48b391f06758d1ab0a1',
  },
  bzip2: {
    pkg: 'bzip2',
    file: 'bzip2_1.0.8.orig.tar.gz',
    sha256: 'ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269',
  },
  xz: {
    pkg: 'xz-utils',
    file: 'xz-utils_5.4.1.orig.tar.xz',
    sha256: '5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5',
  },
  sqlite: {
    pkg: 'sqlite3',
    file: 'sqlite3_3.40.1.orig.tar.xz',
    sha256: 'aaa776260ab4dc976db34aa7891819484c8676b5b2783123ebc6301e2ca5d655',
  },
  // The IANA time-zone database as released (text sources; zic compiles them).
  tzdata: {
    pkg: 'tzdata',
    file: 'tzdata_2026b.orig.tar.gz',
    sha256: '114543d9f19a6bfeb5bca43686aea173d38755a3db1f2eec112647ae92c6f544',
  },
} satisfies Record<string, SourceTarball>;

export class GuestBuildError extends Error {}

type Log = (line: string) => void;

/** Installs missing toolchain packages with apt-get, or says exactly what to install. */
export function ensureToolchain(log: Log): void {
  const missing = TOOLCHAIN.filter((t) => !existsSync(t.file));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && builtin('node:child_process').spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!isRoot && !sudo) {
    throw new GuestBuildError(
      `the guest build needs Debian packages that are not installed: ${pkgs.join(' ')}\n` +
        `install them with: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
  }
  log(`installing Debian packages: ${pkgs.join(' ')}`);
  const run = (args: string[]) => {
    const [cmd, ...rest] = sudo ? ['sudo', '-n', ...args] : args;
    const r = builtin('node:child_process').spawnSync(cmd!, rest, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      throw new GuestBuildError(`${args.join(' ')} failed:\n${(r.stderr || r.stdout || '').trim().slice(-2000)}`);
    }
  };
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs]);
  const still = TOOLCHAIN.filter((t) => !existsSync(t.file));
  if (still.length) {
    throw new GuestBuildError(`after apt-get install, still missing: ${still.map((t) => t.file).join(', ')}`);
  }
}

export function sha256File(path: string): string {
  return builtin('node:crypto').createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * deb-src entries for the machine's own Debian mirrors: every `deb` entry of this
 * release (codename, -updates, -security) becomes a `deb-src` one. Other vendors'
 * repositories are left out (they serve no sources and would fail `apt-get update`).
 */
export function debSrcEntries(codename: string, files: { name: string; text: string }[]): string {
  const suiteOk = (s: string) => s === codename || s.startsWith(`${codename}-`);
  const out: string[] = [];
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'mi').exec(stanza)?.[1]?.trim() ?? '';
        const types = field('Types').split(/\s+/);
        const suites = field('Suites').split(/\s+/).filter(Boolean);
        if (!types.includes('deb') || suites.length === 0 || !suites.every(suiteOk)) continue;
        const keep = stanza
          .split('\n')
          .filter((l) => !l.startsWith('#') && l.trim() !== '')
          .map((l) => (/^Types:/i.test(l) ? 'Types: deb-src' : l));
        out.push(keep.join('\n'));
      }
    } else if (name.endsWith('.list')) {
      const lines = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('deb '))
        .map((l) => l.replace(/^deb /, 'deb-src '))
        .filter((l) => {
          const words = l.replace(/\[[^\]]*\]/, '').split(/\s+/);
          return words[2] !== undefined && suiteOk(words[2]);
        });
      if (lines.length) out.push(lines.join('\n'));
    }
  }
  return out.join('\n\n') + '\n';
}

function systemAptSources(): { name: string; text: string }[] {
  const files: { name: string; text: string }[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push({ name: 'sources.list', text: readFileSync('/etc/apt/sources.list', 'utf8') });
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const name of readdirSync(dir).sort()) files.push({ name, text: readFileSync(join(dir, name), 'utf8') });
  }
  return files;
}

function codename(): string {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const name = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, '');
  if (!name) throw new GuestBuildError('cannot tell the Debian release: /etc/os-release has no VERSION_CODENAME');
  return name;
}

/**
 * Where apt can name a source package's files: the URL `apt-get source --print-uris`
 * picks (the newest version), plus every configured archive's root joined with every
 * pool directory any version of the package lives in. An orig tarball is the same file
 * for every Debian revision of an upstream version, and the security archive does not
 * always carry it (zlib 1.2.13.dfsg-1+deb12u1: 404) while the main pool does.
 */
export function candidateUrls(file: string, pkg: string, apt: { printedUris: string; showsrc: string; archiveRoots: string[] }): string[] {
  const urls: string[] = [];
  const add = (u: string) => {
    if (!urls.includes(u)) urls.push(u);
  };
  for (const line of apt.printedUris.split('\n')) {
    const m = /^'([^']+)'\s+(\S+)/.exec(line);
    if (m && m[2] === file) add(m[1]!);
  }
  const dirs: string[] = [];
  for (const m of apt.showsrc.matchAll(/^Directory:\s*(\S+)\s*$/gm)) if (!dirs.includes(m[1]!)) dirs.push(m[1]!);
  // Debian's own pool layout (pool/main/z/zlib, pool/main/libx/libxml2) as a last
  // resort, in case no index record names the main archive's directory.
  const conventional = `pool/main/${pkg.startsWith('lib') ? pkg.slice(0, 4) : pkg[0]}/${pkg}`;
  if (!dirs.includes(conventional)) dirs.push(conventional);
  for (const root of apt.archiveRoots) {
    for (const dir of dirs) add(`${root.replace(/\/+$/, '')}/${dir}/${file}`);
  }
  return urls;
}

/** Archive roots (URIs) of deb-src entries as written by debSrcEntries, in order. */
export function archiveRoots(entries: string): string[] {
  const roots: string[] = [];
  for (const m of entries.matchAll(/^URIs:\s*(.+)$/gm)) for (const u of m[1]!.trim().split(/\s+/)) if (!roots.includes(u)) roots.push(u);
  for (const m of entries.matchAll(/^deb-src\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) if (!roots.includes(m[1]!)) roots.push(m[1]!);
  return roots;
}

export interface DownloadAttempt {
  url: string;
  /** HTTP status, or what went wrong before one arrived, or the hash that did not match. */
  outcome: string;
}

/**
 * Fetches the first URL whose body has the expected SHA-256. Every attempt is kept so a
 * failure can name each URL and why it was refused.
 */
export async function downloadVerified(
  urls: string[],
  sha256: string,
  log: Log,
): Promise<{ body: Buffer; url: string; attempts: DownloadAttempt[] }> {
  const attempts: DownloadAttempt[] = [];
  for (const url of urls) {
    let res: Response;
    try {
      res = await fetch(url);
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      attempts.push({ url, outcome: cause?.code ?? cause?.message ?? (err as Error).message });
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      attempts.push({ url, outcome: `HTTP ${res.status}` });
      log(`  ${url}: HTTP ${res.status}, trying the next location`);
      continue;
    }
    const body = Buffer.from(await res.arrayBuffer());
    const got = builtin('node:crypto').createHash('sha256').update(body).digest('hex');
    if (got !== sha256) {
      attempts.push({ url, outcome: `HTTP ${res.status}, but sha256 ${got}` });
      continue;
    }
    attempts.push({ url, outcome: `HTTP ${res.status}, sha256 ok` });
    return { body, url, attempts };
  }
  throw new DownloadError(attempts);
}

export class DownloadError extends GuestBuildError {
  constructor(readonly attempts: DownloadAttempt[]) {
    super(
      attempts.length === 0
        ? 'no location to download from'
        : `no location served the expected file:\n${attempts.map((a) => `  ${a.url}: ${a.outcome}`).join('\n')}`,
    );
  }
}

/** What apt knows of one source package, read through a private apt state. */
export interface AptView {
  printedUris(pkg: string): string;
  showsrc(pkg: string): string;
  archiveRoots: string[];
}

function privateApt(aptDir: string, log: Log): AptView {
  if (!existsSync('/usr/bin/apt-get')) throw new GuestBuildError('apt-get is needed to locate Debian source packages');
  // A private apt state: the system's configuration is read, never changed.
  mkdirSync(join(aptDir, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  mkdirSync(join(aptDir, 'parts'), { recursive: true });
  const entries = debSrcEntries(codename(), systemAptSources());
  writeFileSync(join(aptDir, 'parts', 'deb-src.sources'), entries);
  const opts = [
    '-o', `Dir::Etc::SourceList=/dev/null`,
    '-o', `Dir::Etc::SourceParts=${join(aptDir, 'parts')}`,
    '-o', `Dir::State::Lists=${join(aptDir, 'lists')}`,
    '-o', `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o', 'Debug::NoLocking=1',
    '-o', 'APT::Sandbox::User=root',
  ];
  log('reading the Debian source index (apt-get update on a private list)');
  const update = builtin('node:child_process').spawnSync('apt-get', [...opts, 'update'], { encoding: 'utf8' });
  if (update.status !== 0) throw new GuestBuildError(`apt-get update (source index) failed:\n${update.stderr.slice(-2000)}`);
  const run = (cmd: string, args: string[]) => {
    const r = builtin('node:child_process').spawnSync(cmd, [...opts, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return r.status === 0 ? r.stdout : '';
  };
  return {
    printedUris: (pkg) => run('apt-get', ['source', '--print-uris', pkg]),
    showsrc: (pkg) => run('apt-cache', ['showsrc', pkg]),
    archiveRoots: archiveRoots(entries),
  };
}

export type SourceKey = keyof typeof SOURCES;

/**
 * Downloads the pinned orig tarballs into `dir` (skipped when present with the right
 * hash), trying every location apt can name until one serves the pinned SHA-256.
 * `apt` is for tests; by default a private apt state under `aptDir` is read.
 */
export async function fetchSources(
  dir: string,
  aptDir: string,
  log: Log,
  options: { apt?: AptView; keys?: SourceKey[]; /** Tests only: other pinned hashes. */ sha256?: Partial<Record<SourceKey, string>> } = {},
): Promise<Record<SourceKey, string>> {
  mkdirSync(dir, { recursive: true });
  const paths = {} as Record<SourceKey, string>;
  const needed: SourceKey[] = [];
  for (const key of options.keys ?? (Object.keys(SOURCES) as SourceKey[])) {
    const src = { ...SOURCES[key], sha256: options.sha256?.[key] ?? SOURCES[key].sha256 };
    paths[key] = join(dir, src.file);
    if (!(existsSync(paths[key]) && sha256File(paths[key]) === src.sha256)) needed.push(key);
  }
  if (needed.length === 0) return paths;
  const apt = options.apt ?? privateApt(aptDir, log);
  for (const key of needed) {
    const src = { ...SOURCES[key], sha256: options.sha256?.[key] ?? SOURCES[key].sha256 };
    const urls = candidateUrls(src.file, src.pkg, { printedUris: apt.printedUris(src.pkg), showsrc: apt.showsrc(src.pkg), archiveRoots: apt.archiveRoots });
    if (urls.length === 0) {
      throw new GuestBuildError(`Debian's ${src.pkg} source package is not in the configured archives (${apt.archiveRoots.join(', ') || 'none'}); cannot locate ${src.file}`);
    }
    log(`downloading ${src.file} (${urls.length} location${urls.length === 1 ? '' : 's'} known)`);
    let got: Awaited<ReturnType<typeof downloadVerified>>;
    try {
      got = await downloadVerified(urls, src.sha256, log);
    } catch (err) {
      if (err instanceof DownloadError) throw new GuestBuildError(`downloading ${src.file} (sha256 ${src.sha256.slice(0, 12)}...) failed; ${err.message}`);
      throw err;
    }
    writeFileSync(`${paths[key]}.partial`, got.body);
    renameSync(`${paths[key]}.partial`, paths[key]);
    log(`  ${src.file}: from ${got.url}`);
  }
  return paths;
}
