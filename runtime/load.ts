// Loading the artifacts of `tic build`: the guest, its stdlib and its SDK, compiled once.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Manifest } from '../compiler/build.js';
import { type GuestImage, compileGuest, lazyFileBytes } from './instance.js';
import type { LazyBytes } from './wasi/memfs.js';

export class GuestLoadError extends Error {}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(root);
  return out;
}

/** Reads `dir/manifest.json` and compiles `dir/guest.wasm`, with /lib as the guest expects it. */
export async function loadGuestImage(dir: string): Promise<{ image: GuestImage; manifest: Manifest }> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new GuestLoadError(`${dir}: no manifest.json here; is this the output folder of tic build?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  for (const f of ['guest.wasm', 'stdlib.zip']) {
    if (!existsSync(join(dir, f))) throw new GuestLoadError(`${dir}: ${f} is missing; run tic build again`);
  }
  const lib: Record<string, Uint8Array | LazyBytes> = { 'python311.zip': lazyFileBytes(join(dir, 'stdlib.zip')) };
  const sdkDir = join(dir, 'sdk');
  if (existsSync(sdkDir)) {
    for (const file of filesUnder(sdkDir)) lib[`sdk/${relative(sdkDir, file)}`] = new Uint8Array(readFileSync(file));
  }
  const image = await compileGuest(join(dir, 'guest.wasm'), lib, manifest.snapshot);
  return { image, manifest };
}
