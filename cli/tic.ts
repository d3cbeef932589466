// `tic`: a thin shell over the library. Argument parsing, progress and exit codes only.

import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { GuestBuildError, buildGuest } from '../guest/build/index.js';
import { runCommand } from './run.js';

const program = new Command();
program.name('tic').description('tooliscode: tool calls as code calls').showHelpAfterError();

program
  .command('guest')
  .description('build the base CPython-for-WebAssembly guest (cached; a no-op when up to date)')
  .option('--json', 'print the build info as JSON')
  .action(async (opts: { json?: boolean }) => {
    const guest = await buildGuest();
    if (opts.json) console.log(JSON.stringify({ dir: guest.dir, ...guest.info }, null, 2));
    else {
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      const s = guest.info.sizes;
      console.log(`base guest: ${guest.dir}`);
      console.log(`  core.wasm ${mb(s.coreWasm)}, guest.wasm (snapshot) ${mb(s.snapshotWasm)}, python311.zip ${mb(s.stdlibZip)} (${guest.info.stdlib.modules} modules)`);
    }
  });

program
  .command('run')
  .description('run one Python cell in a fresh guest and print its output and final value')
  .argument('[file]', 'a Python file to run as the cell')
  .option('-c, --code <code>', 'the cell source')
  .option('--no-snapshot', 'boot Python instead of starting from the snapshot (slower; for comparison)')
  .action(async (file: string | undefined, opts: { code?: string; snapshot: boolean }) => {
    if ((file === undefined) === (opts.code === undefined)) {
      program.error('tic run: give exactly one of -c CODE or FILE');
    }
    const code = opts.code ?? readFileSync(file!, 'utf8');
    const status = await runCommand(code, { snapshot: opts.snapshot });
    // Exit as soon as the output is flushed: an idle Node lingers for 100 ms or more.
    process.stdout.write('', () => process.exit(status));
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof GuestBuildError) {
    process.stderr.write(`tic: guest build failed: ${err.message}\n`);
  } else {
    process.stderr.write(`tic: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exitCode = 1;
});
