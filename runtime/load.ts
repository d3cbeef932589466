// The artifacts of `tic build` in one folder: checked and located once, for the one-shot
// `tic run` (loadGuestImage) and for embedders (guest.ts).

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Manifest } from '../compiler/build.js';
import { type GuestImage, compileGuest, lazyFileBytes } from './instance.js';
import type { ToolSpec } from './tools.js';
import type { LazyBytes } from './wasi/memfs.js';

export class GuestLoadError extends Error {
  override name = 'GuestLoadError';
}

export interface BuildDir {
  manifest: Manifest;
  wasmPath: string;
  stdlibPath: string;
  /** SDK files by their path under /lib (`sdk/tools/__init__.py`) -> host path. */
  sdkFiles: Record<string, string>;
  /** More read-only files under /lib (`packages.zip` of `tic build --package`) -> host path. */
  libFiles: Record<string, string>;
  tools: ToolSpec[];
}

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

export function readBuildDir(dir: string): BuildDir {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new GuestLoadError(`${dir}: no manifest.json here; is this the output folder of tic build?`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  for (const f of ['guest.wasm', 'stdlib.zip', 'tools.json']) {
    if (!existsSync(join(dir, f))) throw new GuestLoadError(`${dir}: ${f} is missing; run tic build again`);
  }
  const sdkFiles: Record<string, string> = {};
  const sdkDir = join(dir, 'sdk');
  if (existsSync(sdkDir)) for (const file of filesUnder(sdkDir)) sdkFiles[`sdk/${relative(sdkDir, file)}`] = file;
  const tools = JSON.parse(readFileSync(join(dir, 'tools.json'), 'utf8')) as ToolSpec[];
  // The snapshot has the packages' archive on sys.path (and its directory cached): mount it.
  const libFiles: Record<string, string> = {};
  if (manifest.files?.['packages.zip']) {
    if (!existsSync(join(dir, 'packages.zip'))) throw new GuestLoadError(`${dir}: packages.zip is missing; run tic build again`);
    libFiles['packages.zip'] = join(dir, 'packages.zip');
  }
  return { manifest, wasmPath: join(dir, 'guest.wasm'), stdlibPath: join(dir, 'stdlib.zip'), sdkFiles, libFiles, tools };
}

/** Compiles `dir/guest.wasm` with /lib as the guest expects it, for a guest on this thread. */
export async function loadGuestImage(dir: string): Promise<{ image: GuestImage; manifest: Manifest; tools: ToolSpec[] }> {
  const b = readBuildDir(dir);
  const lib: Record<string, Uint8Array | LazyBytes> = { 'python311.zip': lazyFileBytes(b.stdlibPath) };
  for (const [rel, file] of Object.entries(b.sdkFiles)) lib[rel] = new Uint8Array(readFileSync(file));
  for (const [rel, file] of Object.entries(b.libFiles)) lib[rel] = lazyFileBytes(file);
  const image = await compileGuest(b.wasmPath, lib, b.manifest.snapshot);
  return { image, manifest: b.manifest, tools: b.tools };
}
