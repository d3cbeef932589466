// `tic run`: one cell in a fresh guest, output streamed to this process's stdout/stderr.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { buildGuest, cacheRoot } from '../guest/build/index.js';
import { type GuestImage, GuestInstance, compileGuest, lazyFileBytes } from '../runtime/instance.js';
import { loadGuestImage } from '../runtime/load.js';
import { type CheckMode, DEFAULT_CHECK_MODE, withCellOptions } from '../runtime/check.js';

/**
 * TIC_TIMING=1: where a `tic run` spends its time, as milliseconds since the process
 * started (performance.now()), one line on stderr at the end.
 */
const marks: [string, number][] | undefined = process.env.TIC_TIMING ? [['modules loaded', performance.now()]] : undefined;
const mark = (label: string) => marks?.push([label, performance.now()]);

async function image(options: { snapshot: boolean; guestDir?: string }): Promise<GuestImage> {
  if (options.guestDir) return (await loadGuestImage(options.guestDir)).image;
  const base = await buildGuest();
  mark('guest found');
  const lib = { 'python311.zip': lazyFileBytes(base.stdlibZip) };
  return compileGuest(options.snapshot ? base.snapshotWasm : base.coreWasm, lib, options.snapshot, { splitCacheDir: cacheRoot() });
}

export async function runCommand(code: string, options: { snapshot: boolean; guestDir?: string; check?: CheckMode }): Promise<number> {
  // One short cell: V8's optimizing tier would only compete for the CPU and hold up the
  // exit while its background jobs finish. Long-lived sessions keep the default tiering.
  setFlagsFromString('--liftoff-only');
  // And most of the 4.5 MB of code never runs in one cell: validate each function when it
  // is first compiled (it still is, before it runs) instead of all of them up front. (Not
  // in the library, where it would change WebAssembly.compile for the host's own modules.)
  setFlagsFromString('--wasm-lazy-validation');
  const compiled = await image(options);
  mark('compiled');
  const guest = new GuestInstance(compiled);
  mark('instantiated');
  let lineOpen = false; // the cell's output so far does not end with a newline
  const result = guest.run(withCellOptions(code, options.check ?? DEFAULT_CHECK_MODE), {
    onStdout: (text) => {
      if (marks && !marks.some(([l]) => l === 'first output')) mark('first output');
      if (text) lineOpen = !text.endsWith('\n');
      process.stdout.write(text);
    },
    onStderr: (text) => process.stderr.write(text),
  });
  mark('cell done');
  if (marks) process.stderr.write(`tic: timing (ms since start): ${marks.map(([l, t]) => `${l} ${t.toFixed(1)}`).join(', ')}\n`);
  if (result.ok) {
    // The value on a line of its own, also after output that did not end one.
    if (result.value !== undefined) process.stdout.write(`${lineOpen ? '\n' : ''}${result.value}\n`);
    return 0;
  }
  process.stderr.write(result.error!.traceback);
  return 1;
}

/** A folder with a manifest.json: the output of `tic build`. */
export const isGuestDir = (p: string) => existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, 'manifest.json'));

/**
 * `tic run [DIR] [FILE] [-c CODE]` without handlers, servers or a workspace, as cli/tic.ts
 * parsed it (the full command line's rules): the exit status, or undefined when the
 * arguments are not a valid one-shot (the full command line then reports why).
 */
export async function runFast(args: { code?: string; paths: string[]; snapshot: boolean; check: CheckMode }): Promise<number | undefined> {
  const guestDir = args.paths[0] !== undefined && isGuestDir(args.paths[0]) ? args.paths[0] : undefined;
  const rest = guestDir ? args.paths.slice(1) : args.paths;
  if (rest.length > 1 || (rest.length === 1) === (args.code !== undefined)) return undefined;
  const code = args.code ?? readFileSync(rest[0]!, 'utf8');
  return runCommand(code, { snapshot: args.snapshot, check: args.check, ...(guestDir ? { guestDir } : {}) });
}
