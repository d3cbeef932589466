#!/usr/bin/env node
// Two cold builds of the base guest, compared byte for byte: each from its own clone of
// this repository's HEAD (different folders), into its own empty cache root, the second
// optionally as another user (`--user nobody`). Source tarballs are copied from
// `--sources DIR` when given (they are pinned by SHA-256; the download is not what is
// compared). `--against DIR` compares one cold build with a base guest already built
// elsewhere (the folder `tic guest` prints) instead of building twice. Exit 1 when any
// artifact differs.
//
//   node scripts/check-reproducible.mjs [--user NAME] [--sources DIR] [--against DIR]

import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const user = arg('--user');
const sources = arg('--sources');

function chownTree(path, uid, gid) {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) if (n !== 'node_modules') chownTree(join(path, n), uid, gid);
}

function coldBuild(label, asUser) {
  const base = mkdtempSync(join(tmpdir(), `tic-repro-${label}-`));
  const clone = join(base, `clone-${label}`);
  const cache = join(base, 'cache');
  execFileSync('git', ['clone', '-q', repo, clone]);
  symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
  execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(clone, 'tsconfig.json')]);
  if (sources) cpSync(sources, join(cache, 'sources'), { recursive: true });
  let cmd = process.execPath;
  let args = [join(clone, 'bin', 'tic.js'), 'guest', '--json'];
  if (asUser) {
    const uid = Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', asUser], { encoding: 'utf8' }));
    chownSync(base, uid, gid);
    chownTree(clone, uid, gid);
    if (existsSync(cache)) chownTree(cache, uid, gid);
    args = ['-u', asUser, '--', 'env', `TIC_CACHE_DIR=${cache}`, `HOME=${base}`, process.execPath, ...args];
    cmd = 'runuser';
  }
  console.error(`build ${label}: ${clone} -> ${cache}${asUser ? ` as ${asUser}` : ''}`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { env: { ...process.env, TIC_CACHE_DIR: cache }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`build ${label} failed (exit ${r.status})`);
  console.error(`build ${label}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return JSON.parse(r.stdout);
}

const against = arg('--against');
const a = against ? JSON.parse(readFileSync(join(against, 'info.json'), 'utf8')) : coldBuild('a');
const b = coldBuild('second-b', user);
let same = true;
for (const k of ['coreWasm', 'stdlibZip', 'snapshotWasm']) {
  const eq = a.sha256[k] === b.sha256[k];
  same &&= eq;
  console.log(`${k.padEnd(13)} ${eq ? 'identical' : 'DIFFERENT'}  ${a.sha256[k]}${eq ? '' : `  vs ${b.sha256[k]}`}`);
}
console.log(`key ${a.key} / ${b.key}`);
process.exit(same ? 0 : 1);
