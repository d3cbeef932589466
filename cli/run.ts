// `tic run`: one cell in a fresh guest, output streamed to this process's stdout/stderr.

import { setFlagsFromString } from 'node:v8';
import { buildGuest } from '../guest/build/index.js';
import { GuestInstance, compileGuest } from '../runtime/instance.js';

export async function runCommand(code: string, options: { snapshot: boolean }): Promise<number> {
  // One short cell: V8's optimizing tier would only compete for the CPU and hold up the
  // exit while its background jobs finish. Long-lived sessions keep the default tiering.
  setFlagsFromString('--liftoff-only');
  const base = await buildGuest();
  const image = await compileGuest(options.snapshot ? base.snapshotWasm : base.coreWasm, base.stdlibZip, options.snapshot);
  const guest = new GuestInstance(image);
  const result = guest.run(code, {
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
