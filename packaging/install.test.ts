// The package as a user gets it: `npm pack` (prepack puts the prebuilt base guest in),
// installed into an empty project with an empty cache, outside any clone. `tic build`
// and a session must work there without building anything from source.

import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');

// Asynchronous on purpose: packing and installing take minutes, and a blocked event loop
// starves vitest's own worker messages.
const exec = promisify(execFile);
async function run(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
  try {
    const r = await exec(cmd, args, { ...options, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

describe('the packed tarball, installed into an empty project', () => {
  let project = '';
  let cache = '';
  let tarball = '';
  const env = () => ({
    ...process.env,
    TIC_CACHE_DIR: cache,
    // Not a clone: the package must never fall back to a source build.
    TIC_BUILD_FROM_SOURCE: '',
  });

  beforeAll(async () => {
    const packDir = mkdtempSync(join(tmpdir(), 'tic-pack-'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: repo });
    expect(pack.status, pack.stderr).toBe(0);
    const info = JSON.parse(pack.stdout) as { filename: string; size: number; files: { path: string }[] }[];
    tarball = join(packDir, info[0]!.filename);
    const files = info[0]!.files.map((f) => f.path);
    expect(files).toContain('prebuilt/guest/guest.wasm');
    expect(files).toContain('prebuilt/guest/core.wasm');
    expect(files.some((f) => f.endsWith('.test.ts') || f.endsWith('.test.js'))).toBe(false);
    project = mkdtempSync(join(tmpdir(), 'tic-user-'));
    cache = mkdtempSync(join(tmpdir(), 'tic-user-cache-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true, type: 'module' }));
    const install = await run('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project });
    expect(install.status, install.stderr).toBe(0);
  }, 600_000);

  it('builds a tool list and runs a session with nothing compiled', async () => {
    writeFileSync(join(project, 'tools.json'), readFileSync(join(repo, 'examples', 'issues', 'tools.json')));
    const build = await run('npx', ['tic', 'build', 'tools.json', '-o', 'dist'], { cwd: project, env: env() });
    expect(build.stderr).not.toMatch(/cross-building|installing Debian packages|building the base guest/);
    expect(build.status, build.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(project, 'dist', 'manifest.json'), 'utf8')) as { baseGuestSha256: Record<string, string> };
    const packed = JSON.parse(readFileSync(join(project, 'node_modules', 'tooliscode', 'prebuilt', 'guest', 'info.json'), 'utf8')) as { sha256: Record<string, string> };
    expect(manifest.baseGuestSha256).toEqual(packed.sha256);
    // The cache holds the SDK snapshot only: no source tarball, no build step ran.
    expect(readdirSync(cache).sort()).not.toContain('steps');
    expect(existsSync(join(cache, 'sources'))).toBe(false);

    writeFileSync(
      join(project, 'session.mjs'),
      `import { loadGuest } from 'tooliscode';
const guest = await loadGuest('dist');
const session = await guest.createSession({ handlers: { list_issues: ({ repo }) => ({ issues: [{ number: 7, title: repo, labels: [], comments: 0 }], next_page: null }) } });
const r = await session.run('page = tools.list_issues(repo="a/b")\\nprint(page["issues"][0]["title"])');
console.log(JSON.stringify(r.stdout));
await session.close(); await guest.close();
`,
    );
    const session = await run(process.execPath, ['session.mjs'], { cwd: project, env: env() });
    expect(session.status, session.stderr).toBe(0);
    expect(session.stdout.trim()).toBe(JSON.stringify('a/b\n'));
  }, 300_000);

  it('runs a cell on the base guest and reports where the guest came from', async () => {
    const r = await run('npx', ['tic', 'run', '-c', 'import zlib; print(zlib.crc32(b"x"))'], { cwd: project, env: env() });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('2363233923');
    const g = await run('npx', ['tic', 'guest', '--json'], { cwd: project, env: env() });
    expect(g.status, g.stderr).toBe(0);
    expect((JSON.parse(g.stdout) as { source: string }).source).toBe('package');
    expect(statSync(tarball).size).toBeGreaterThan(0);
  }, 120_000);
});
