// Real pure-Python packages from Debian's archive, for benchmarks and tests of
// `tic build --package`: fetched once with `apt-get download`, unpacked with `dpkg-deb -x`
// (nothing is installed), cached under the tooliscode cache folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../guest/build/index.js';

/** Why Debian packages cannot be had here, or undefined when they can. */
export function debianPackagesUnavailable(): string | undefined {
  for (const tool of ['apt-get', 'dpkg-deb']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (the Debian package tests need Debian's apt)`;
  }
  return undefined;
}

/**
 * The `dist-packages` folder of Debian package `name` (e.g. `python3-tabulate`), unpacked
 * into the cache on first use. Throws with apt's own message if it cannot be fetched.
 */
export function debianDistPackages(name: string): string {
  const root = join(cacheRoot(), 'debian-packages');
  const dir = join(root, name);
  const site = join(dir, 'usr', 'lib', 'python3', 'dist-packages');
  if (existsSync(site)) return site;
  mkdirSync(root, { recursive: true });
  const tmp = mkdtempSync(join(root, `${name}.partial-`));
  try {
    const got = spawnSync('apt-get', ['download', name], { cwd: tmp, encoding: 'utf8' });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (got.status !== 0 || !deb) throw new Error(`apt-get download ${name} failed: ${(got.stderr || got.stdout).trim()}`);
    const out = join(tmp, 'root');
    const x = spawnSync('dpkg-deb', ['-x', join(tmp, deb), out], { encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${x.stderr.trim()}`);
    if (!existsSync(dir)) renameSync(out, dir); // another process may have won the race: keep theirs
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return site;
}
