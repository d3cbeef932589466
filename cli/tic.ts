// `tic`: a thin shell over the library. Argument parsing, progress and exit codes only.

import { Command, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../compiler/build.js';
import { CompileError, formatDiagnostic } from '../compiler/diagnostics.js';
import { PROMPT_STYLES, type PromptStyle } from '../compiler/emit-prompt.js';
import { GuestBuildError, buildGuest } from '../guest/build/index.js';
import { GuestLoadError } from '../runtime/load.js';
import { runCommand } from './run.js';

const program = new Command();
program.name('tic').description('tooliscode: tool calls as code calls').showHelpAfterError();
const progress = (line: string) => process.stderr.write(`tic: ${line}\n`);

program
  .command('build')
  .description('tool schemas (OpenAI, Anthropic or MCP; JSON or YAML) -> typed Python SDK, tools.d.ts, prompt.md and a snapshotted guest')
  .argument('<tools...>', 'tool list files; several make one SDK with a namespace per file')
  .requiredOption('-o, --out <dir>', 'output folder')
  .option('--name <name>', 'a name for this build (manifest)')
  .option('--module <module>', 'Python module name of the SDK', 'tools')
  .option('--namespace <names>', 'comma-separated namespace per input file, in order')
  .addOption(new Option('--prompt-style <style>', 'how much prompt.md says').choices(PROMPT_STYLES).default('compact'))
  .option('--no-snapshot', 'skip the Wizer snapshot (faster build, slower session start)')
  .action(async (inputs: string[], opts: { out: string; name?: string; module: string; namespace?: string; promptStyle: PromptStyle; snapshot: boolean }) => {
    const t0 = Date.now();
    const result = await build({
      inputs,
      outDir: opts.out,
      moduleName: opts.module,
      promptStyle: opts.promptStyle,
      snapshot: opts.snapshot,
      log: progress,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.namespace ? { namespaces: opts.namespace.split(',').map((s) => s.trim()) } : {}),
    });
    for (const w of result.warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
    const m = result.manifest;
    progress(
      `built ${m.tools.length} tools into ${result.outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s` +
        (m.snapshot ? (result.snapshotCached ? ' (snapshot from cache)' : '') : ' (no snapshot)'),
    );
  });

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
  .description('run one Python cell in a fresh guest (the base guest, or the output folder of tic build) and print its output and final value')
  .argument('[dir-or-file...]', '[DIR] [FILE]: a tic build output folder and/or a Python file to run as the cell')
  .option('-c, --code <code>', 'the cell source')
  .option('--no-snapshot', 'boot Python instead of starting from the snapshot (base guest only; for comparison)')
  .action(async (args: string[], opts: { code?: string; snapshot: boolean }) => {
    const isGuestDir = (p: string) => existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, 'manifest.json'));
    const guestDir = args[0] !== undefined && isGuestDir(args[0]) ? args[0] : undefined;
    const rest = guestDir ? args.slice(1) : args;
    if (rest.length > 1 || (rest.length === 1) === (opts.code !== undefined)) {
      program.error('tic run: give exactly one of -c CODE or FILE (after an optional tic build folder)');
    }
    const code = opts.code ?? readFileSync(rest[0]!, 'utf8');
    const status = await runCommand(code, { snapshot: opts.snapshot, ...(guestDir ? { guestDir } : {}) });
    // Exit as soon as the output is flushed: an idle Node lingers for 100 ms or more.
    process.stdout.write('', () => process.exit(status));
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CompileError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof GuestBuildError) process.stderr.write(`tic: guest build failed: ${err.message}\n`);
  else if (err instanceof GuestLoadError) process.stderr.write(`tic: ${err.message}\n`);
  else process.stderr.write(`tic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
