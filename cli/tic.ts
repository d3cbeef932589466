// `tic`: the entry. The common one-shot `tic run -c CODE` (or `tic run [DIR] FILE`) is
// parsed here and goes straight to cli/run.ts, without loading commander and the other
// commands (about 10 ms of a 60 ms floor: issue #21). Anything else, including every
// option or form this does not recognise, help and errors, goes to the full command line
// (cli/program.ts), which parses it as before.

import { fastRunArgs } from './run-args.js';

const fast = fastRunArgs(process.argv.slice(2));
if (fast) {
  const { runFast } = await import('./run.js');
  let status: number | undefined;
  try {
    status = await runFast(fast);
  } catch (err) {
    // As the full command line reports a failure.
    const { GuestBuildError } = await import('../guest/build/index.js');
    process.stderr.write(err instanceof GuestBuildError ? `tic: guest build failed: ${err.message}\n` : `tic: ${err instanceof Error ? err.message : String(err)}\n`);
    status = 1;
  }
  // undefined: not a plain one-shot after all (e.g. no code); the full command line says why.
  if (status === undefined) await import('./program.js');
  // Exit as soon as the output is flushed: an idle Node lingers for 100 ms or more.
  else process.stdout.write('', () => process.exit(status));
} else await import('./program.js');
