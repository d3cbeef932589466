// `tic`: a thin shell over the library. Argument parsing, progress and exit codes only.
// The compiler, the session runtime and the conformance runner are imported by the
// commands that use them: `tic run -c` must not pay for loading TypeScript.

import { Command, Option } from 'commander';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompileError, formatDiagnostic } from '../compiler/diagnostics.js';
import { PROMPT_STYLES, type PromptStyle } from '../compiler/prompt-styles.js';
import { GuestBuildError, buildGuest, fetchGuestSources } from '../guest/build/index.js';
import { runCommand } from './run.js';

const program = new Command();
program.name('tic').description('tooliscode: tool calls as code calls').showHelpAfterError();
const progress = (line: string) => process.stderr.write(`tic: ${line}\n`);
/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[]) => [...previous, value];

program
  .command('build')
  .description('tool schemas (OpenAI, Anthropic or MCP; JSON or YAML) -> typed Python SDK, tools.d.ts, prompt.md and a snapshotted guest')
  .argument('<tools...>', 'tool list files; several make one SDK with a namespace per file')
  .requiredOption('-o, --out <dir>', 'output folder')
  .option('--name <name>', 'a name for this build (manifest)')
  .option('--module <module>', 'Python module name of the SDK', 'tools')
  .option('--namespace <names>', 'comma-separated namespace per input file, in order')
  .addOption(new Option('--prompt-style <style>', 'how much prompt.md says').choices(PROMPT_STYLES).default('compact'))
  .option('--package <path>', 'pure-Python package(s) for the guest: a package folder, a folder of them (site-packages, dist-packages), a .py module, a .whl or a .zip; repeat for more', collect, [])
  .option('--preload <names>', 'comma-separated modules imported before the snapshot, so their first import in a session is free; repeatable', collect, [])
  .option('--setup <file.py>', 'a Python file run once in the snapshot after the SDK is imported; its globals are in every session (its folder is readable while it runs, at build time only)')
  .option('--no-snapshot', 'skip the Wizer snapshot (faster build, slower session start)')
  .action(async (inputs: string[], opts: { out: string; name?: string; module: string; namespace?: string; promptStyle: PromptStyle; snapshot: boolean; package: string[]; preload: string[]; setup?: string }) => {
    const t0 = Date.now();
    const { build } = await import('../compiler/build.js');
    const result = await build({
      inputs,
      outDir: opts.out,
      moduleName: opts.module,
      promptStyle: opts.promptStyle,
      snapshot: opts.snapshot,
      log: progress,
      ...(opts.name ? { name: opts.name } : {}),
      ...(opts.namespace ? { namespaces: opts.namespace.split(',').map((s) => s.trim()) } : {}),
      ...(opts.package.length ? { packages: opts.package } : {}),
      ...(opts.preload.length ? { preload: opts.preload.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean) } : {}),
      ...(opts.setup !== undefined ? { setup: opts.setup } : {}),
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
  .option('--fetch-only', 'download and verify the pinned source tarballs into the cache, and build nothing (for offline builds)')
  .action(async (opts: { json?: boolean; fetchOnly?: boolean }) => {
    if (opts.fetchOnly) {
      const files = await fetchGuestSources();
      if (opts.json) console.log(JSON.stringify(files, null, 2));
      else for (const f of files) console.log(`${f.path}  sha256 ${f.sha256}`);
      return;
    }
    const guest = await buildGuest();
    if (opts.json) console.log(JSON.stringify({ dir: guest.dir, source: guest.source, ...guest.info }, null, 2));
    else {
      const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
      const { sizes: s, sha256: h } = guest.info;
      const from = { package: 'prebuilt, from the installed package', cache: 'from the cache', built: 'built just now' }[guest.source];
      console.log(`base guest ${guest.info.key} (${from}): ${guest.dir}`);
      console.log(`  core.wasm      ${mb(s.coreWasm).padStart(8)}  sha256 ${h.coreWasm}`);
      console.log(`  guest.wasm     ${mb(s.snapshotWasm).padStart(8)}  sha256 ${h.snapshotWasm}  (snapshot)`);
      console.log(`  python311.zip  ${mb(s.stdlibZip).padStart(8)}  sha256 ${h.stdlibZip}  (${guest.info.stdlib.modules} modules)`);
    }
  });

const isGuestDir = (p: string) => existsSync(p) && statSync(p).isDirectory() && existsSync(join(p, 'manifest.json'));
const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive whole number of milliseconds, got ${JSON.stringify(v)}`);
  return n;
};

program
  .command('run')
  .description('run one Python cell in a fresh guest (the base guest, or the output folder of tic build) and print its output and final value')
  .argument('[dir-or-file...]', '[DIR] [FILE]: a tic build output folder and/or a Python file to run as the cell')
  .option('-c, --code <code>', 'the cell source')
  .option('--handlers <file>', 'a .js or .ts module exporting the tool handlers (needs DIR)')
  .option('--mcp <command>', 'a stdio MCP server whose tools serve the calls, e.g. "npx -y @modelcontextprotocol/server-filesystem /data" (needs DIR)')
  .option('--workspace <dir>', 'host folder mirrored at /workspace (needs DIR; in memory otherwise)')
  .option('--timeout <ms>', 'time limit of the cell (with --handlers or --workspace)', positiveInt)
  .option('--no-snapshot', 'boot Python instead of starting from the snapshot (base guest only; for comparison)')
  .action(async (args: string[], opts: { code?: string; handlers?: string; mcp?: string; workspace?: string; timeout?: number; snapshot: boolean }) => {
    const guestDir = args[0] !== undefined && isGuestDir(args[0]) ? args[0] : undefined;
    const rest = guestDir ? args.slice(1) : args;
    if (rest.length > 1 || (rest.length === 1) === (opts.code !== undefined)) {
      program.error('tic run: give exactly one of -c CODE or FILE (after an optional tic build folder)');
    }
    const inSession = Boolean(opts.handlers || opts.mcp || opts.workspace);
    if (inSession && !guestDir) program.error('tic run: --handlers, --mcp and --workspace need the output folder of tic build first');
    const code = opts.code ?? readFileSync(rest[0]!, 'utf8');
    const status =
      guestDir && inSession
        ? await (await import('./session.js')).runInSession(guestDir, code, { ...(opts.handlers ? { handlers: opts.handlers } : {}), ...(opts.mcp ? { mcp: opts.mcp } : {}), ...(opts.workspace ? { workspace: opts.workspace } : {}), ...(opts.timeout ? { timeoutMs: opts.timeout } : {}) })
        : await runCommand(code, { snapshot: opts.snapshot, ...(guestDir ? { guestDir } : {}) });
    // Exit as soon as the output is flushed: an idle Node lingers for 100 ms or more.
    process.stdout.write('', () => process.exit(status));
  });

program
  .command('repl')
  .description('an interactive session on the output folder of tic build: cells share globals, SDK calls reach your handlers')
  .argument('<dir>', 'the output folder of tic build')
  .option('--handlers <file>', 'a .js or .ts module exporting the tool handlers')
  .option('--mcp <command>', 'a stdio MCP server whose tools serve the calls')
  .option('--workspace <dir>', 'host folder mirrored at /workspace (in memory otherwise)')
  .option('--timeout <ms>', 'time limit of each cell', positiveInt)
  .action(async (dir: string, opts: { handlers?: string; mcp?: string; workspace?: string; timeout?: number }) => {
    if (!isGuestDir(dir)) program.error(`tic repl: ${dir} is not the output folder of tic build (no manifest.json)`);
    const { repl } = await import('./session.js');
    await repl(dir, { ...(opts.handlers ? { handlers: opts.handlers } : {}), ...(opts.mcp ? { mcp: opts.mcp } : {}), ...(opts.workspace ? { workspace: opts.workspace } : {}), ...(opts.timeout ? { timeoutMs: opts.timeout } : {}) });
    process.exit(0);
  });

program
  .command('list-tools')
  .description('print the tools/list result of a stdio MCP server, the input of tic build')
  .requiredOption('--mcp <command>', 'the server command, e.g. "npx -y @modelcontextprotocol/server-filesystem /data"')
  .option('-o, --out <file>', 'write it to this file instead of stdout')
  .action(async (opts: { mcp: string; out?: string }) => {
    const { connectMcpServer } = await import('../runtime/mcp.js');
    const server = await connectMcpServer(opts.mcp);
    const text = `${JSON.stringify(server.tools, null, 2)}\n`;
    await server.close();
    if (opts.out) {
      writeFileSync(opts.out, text);
      progress(`${server.tools.tools.length} tools written to ${opts.out}`);
    } else process.stdout.write(text);
  });

program
  .command('conformance')
  .description('run the conformance suite (conformance/cases): one line per case, then "N passed, N failed"')
  .option('--filter <text>', 'only topics or case files whose name contains this')
  .option('--json', 'print the results as JSON')
  .action(async (opts: { filter?: string; json?: boolean }) => {
    const { runConformance } = await import('../conformance/runner.js');
    const results = await runConformance({
      ...(opts.filter ? { filter: opts.filter } : {}),
      onResult: (r) => {
        if (opts.json) return;
        process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.topic}/${r.file}: ${r.name}${r.failure ? `\n       ${r.failure}` : ''}\n`);
      },
    });
    const failed = results.filter((r) => !r.ok).length;
    if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    process.exitCode = failed || results.length === 0 ? 1 : 0;
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CompileError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof GuestBuildError) process.stderr.write(`tic: guest build failed: ${err.message}\n`);
  else process.stderr.write(`tic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
