#!/usr/bin/env node
// One set-up for every entry point (tests, demo, CI): npm packages when package-lock.json
// changed, the build (scripts/build.mjs), and the base guest (which installs its own Debian
// toolchain and is cached). Each part is a no-op when already up to date.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
const stamp = join(root, 'node_modules', '.tic-lock-hash');
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  console.error('setup: npm ci');
  run('npm', ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, lockHash);
}
run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
run(process.execPath, [join(root, 'bin', 'tic.js'), 'guest']);

// The tests run a real Redis (a store shared by several tic serve): Debian's redis-server,
// which each test starts on a port of its own. Installed here when missing.
if (process.argv.includes('--redis') && spawnSync('redis-server', ['--version']).status !== 0) {
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!isRoot && !sudo) {
    console.error('setup: the tests need redis-server: sudo apt-get install -y redis-server');
    process.exit(1);
  }
  console.error('setup: apt-get install redis-server');
  const apt = (args) => {
    const [cmd, ...rest] = sudo ? ['sudo', '-n', ...args] : args;
    const r = spawnSync(cmd, rest, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  apt(['apt-get', 'update']);
  apt(['apt-get', 'install', '-y', '--no-install-recommends', 'redis-server']);
}

// Pydantic's Monty is a peer of the benchmark only: its npm package lists a native package
// per platform, and only linux-x64's is on some registries, which npm ci cannot lock; so it
// is installed here, when the bench asks, into a folder of its own (.bench-peers/), leaving
// the project's node_modules and lock as npm ci made them.
if (process.argv.includes('--monty')) {
  const peers = join(root, '.bench-peers');
  if (!existsSync(join(peers, 'node_modules', '@pydantic', 'monty', 'package.json'))) {
    console.error('setup: npm install @pydantic/monty@0.0.18 into .bench-peers/ (a benchmark peer)');
    mkdirSync(peers, { recursive: true });
    const r = spawnSync('npm', ['install', '--prefix', peers, '--no-audit', '--no-fund', '@pydantic/monty@0.0.18'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) console.error('setup: Monty could not be installed; the bench runs without it');
  }
}
