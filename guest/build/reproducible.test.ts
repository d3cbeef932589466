// The snapshot is a pure function of its inputs: the snapshot writer run twice, from copies of the
// same core.wasm and stdlib in different folders (so every host path differs), writes
// the same bytes. Paths, clocks, randomness and hash seeds must not reach the image.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildGuest, snapshotGuest } from './index.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

it('snapshots twice in different folders to the same bytes, and to the cached base snapshot', async () => {
  const base = await buildGuest({ log: () => {} });
  const outs: string[] = [];
  for (const name of ['first', 'second-with-a-longer-folder-name']) {
    const dir = join(mkdtempSync(join(tmpdir(), `tic-repro-${name}-`)), name);
    mkdirSync(dir, { recursive: true });
    copyFileSync(base.coreWasm, join(dir, 'core.wasm'));
    copyFileSync(base.stdlibZip, join(dir, 'python311.zip'));
    const out = join(dir, 'out', 'guest.wasm');
    mkdirSync(join(dir, 'out'));
    await snapshotGuest({ coreWasm: join(dir, 'core.wasm'), lib: { 'python311.zip': join(dir, 'python311.zip') }, outWasm: out, logFile: join(dir, 'wizer.log') });
    outs.push(out);
  }
  expect(sha(outs[0]!)).toBe(sha(outs[1]!));
  expect(sha(outs[0]!)).toBe(base.info.sha256.snapshotWasm);
}, 300_000);
