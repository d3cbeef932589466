// `tic run`: one cell in a fresh guest, output streamed to this process's stdout/stderr.

import { setFlagsFromString } from 'node:v8';
import { buildGuest } from '../guest/build/index.js';
import { type GuestImage, GuestInstance, compileGuest, lazyFileBytes } from '../runtime/instance.js';
import { loadGuestImage } from '../runtime/load.js';
import { type CheckMode, DEFAULT_CHECK_MODE, withCellOptions } from '../runtime/check.js';

async function image(options: { snapshot: boolean; guestDir?: string }): Promise<GuestImage> {
  if (options.guestDir) return (await loadGuestImage(options.guestDir)).image;
  const base = await buildGuest();
  const lib = { 'python311.zip': lazyFileBytes(base.stdlibZip) };
  return compileGuest(options.snapshot ? base.snapshotWasm : base.coreWasm, lib, options.snapshot);
}

export async function runCommand(code: string, options: { snapshot: boolean; guestDir?: string; check?: CheckMode }): Promise<number> {
  // One short cell: V8's optimizing tier would only compete for the CPU and hold up the
  // exit while its background jobs finish. Long-lived sessions keep the default tiering.
  setFlagsFromString('--liftoff-only');
  const guest = new GuestInstance(await image(options));
  const result = guest.run(withCellOptions(code, options.check ?? DEFAULT_CHECK_MODE), {
    onStdout: (text) => process.stdout.write(text),
    onStderr: (text) => process.stderr.write(text),
  });
  if (result.ok) {
    if (result.value !== undefined) process.stdout.write(`${result.value}\n`);
    return 0;
  }
  process.stderr.write(result.error!.traceback);
  return 1;
}
