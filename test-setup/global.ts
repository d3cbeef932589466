import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGuest } from '../guest/build/index.js';

export default async function setup(): Promise<() => void> {
  await buildGuest();
  // Every temporary folder of the run (builds, workspaces, caches, packed tarballs: about
  // 700 MB, which each run used to leave in /tmp) goes under one folder, removed when the
  // run ends. os.tmpdir() reads TMPDIR, and the test workers and the processes they start
  // inherit it from here.
  const root = mkdtempSync(join(tmpdir(), 'tic-tests-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
