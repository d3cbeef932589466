// `tic`'s command line (cli/tic.ts takes the plain `tic run` first): a thin shell over the library. Argument parsing, progress and exit codes only.
// The compiler, the session runtime and the conformance runner are imported by the
// commands that use them: `tic run -c` must not pay for loading TypeScript.

import { Command, Option } from 'commander';
import { CHECK_MODES, type CheckMode, DEFAULT_CHECK_MODE } from '../runtime/check.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CompileError, formatDiagnostic } from '../compiler/diagnostics.js';
import { PROMPT_STYLES, type PromptStyle } from '../compiler/prompt-styles.js';
import { GuestBuildError, buildGuest, fetchGuestSources } from '../guest/build/index.js';
import { isGuestDir, runCommand } from './run.js';
import { type ServerCliOptions, addServerOptions, duration, hasServers, serverSpecs, startServers, upstreamOptions } from './servers.js';

const program = new Command();
program.name('tic').description('tooliscode: tool calls as code calls').showHelpAfterError();
const progress = (line: string) => process.stderr.write(`tic: ${line}\n`);
/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[]) => [...previous, value];

addServerOptions(
  program
    .command('build')
    .description('tool schemas (OpenAI, Anthropic or MCP; JSON or YAML) or live MCP servers -> typed Python SDK, tools.d.ts, prompt.md and a snapshotted guest')
    .argument('[tools...]', 'tool list files; several make one SDK with a namespace per file (each MCP server is a namespace too)'),
)
  .requiredOption('-o, --out <dir>', 'output folder')
  .option('--name <name>', 'a name for this build (manifest)')
  .option('--module <module>', 'Python module name of the SDK', 'tools')
  .option('--namespace <names>', 'comma-separated namespace per input file, in order')
  .addOption(new Option('--prompt-style <style>', 'how much prompt.md says').choices(PROMPT_STYLES).default('compact'))
  .option('--package <path>', 'pure-Python package(s) for the guest: a package folder, a folder of them (site-packages, dist-packages), a .py module, a .whl or a .zip; repeat for more', collect, [])
  .option('--preload <names>', 'comma-separated modules imported before the snapshot, so their first import in a session is free; repeatable', collect, [])
  .option('--setup <file.py>', 'a Python file run once in the snapshot after the SDK is imported; its globals are in every session (its folder is readable while it runs, at build time only)')
  .option('--no-snapshot', 'skip the snapshot (faster build, slower session start)')
  .addOption(new Option('--snapshotter <name>', 'who takes the snapshot: tic (built in, any platform) or wizer (the native binary, linux-x64 only; to compare)').choices(['tic', 'wizer']))
  .action(async (files: string[], opts: ServerCliOptions & { out: string; name?: string; module: string; namespace?: string; promptStyle: PromptStyle; snapshot: boolean; snapshotter?: 'tic' | 'wizer'; package: string[]; preload: string[]; setup?: string }) => {
    const t0 = Date.now();
    const specs = await serverSpecs(opts);
    if (files.length === 0 && specs.length === 0) program.error('tic build: give tool list files, or MCP servers with --mcp, --mcp-url or --config');
    const { build } = await import('../compiler/build.js');
    const hub = specs.length ? await startServers(specs, opts, progress, true) : undefined;
    let result;
    try {
      result = await build({
        inputs: [...files, ...(hub?.toolLists() ?? [])],
        outDir: opts.out,
        moduleName: opts.module,
        promptStyle: opts.promptStyle,
        snapshot: opts.snapshot,
        ...(opts.snapshotter ? { snapshotter: opts.snapshotter } : {}),
        log: progress,
        ...(opts.name ? { name: opts.name } : {}),
        ...(opts.namespace ? { namespaces: opts.namespace.split(',').map((s) => s.trim()) } : {}),
        ...(opts.package.length ? { packages: opts.package } : {}),
        ...(opts.preload.length ? { preload: opts.preload.flatMap((p) => p.split(',')).map((s) => s.trim()).filter(Boolean) } : {}),
        ...(opts.setup !== undefined ? { setup: opts.setup } : {}),
      });
    } finally {
      await hub?.close();
    }
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
  .addOption(new Option('--snapshotter <name>', 'who takes the base snapshot: tic (built in) or wizer (linux-x64 only; to compare)').choices(['tic', 'wizer']))
  .option('--fetch-only', 'download and verify the pinned source tarballs into the cache, and build nothing (for offline builds)')
  .action(async (opts: { json?: boolean; fetchOnly?: boolean; snapshotter?: 'tic' | 'wizer' }) => {
    if (opts.fetchOnly) {
      const files = await fetchGuestSources();
      if (opts.json) console.log(JSON.stringify(files, null, 2));
      else for (const f of files) console.log(`${f.path}  sha256 ${f.sha256}`);
      return;
    }
    const guest = await buildGuest(opts.snapshotter ? { snapshotter: opts.snapshotter } : {});
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

program
  .command('cache')
  .description('show what the cache holds; with prune, remove the entries unused the longest until it is within a budget')
  .argument('[action]', '"prune" to prune now')
  .option('--max-mb <n>', 'the budget for prune, in MB (default: TIC_CACHE_MAX_MB, else 4096)', (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`expected a number of megabytes, got ${JSON.stringify(v)}`);
    return n;
  })
  .action(async (action: string | undefined, opts: { maxMb?: number }) => {
    if (action !== undefined && action !== 'prune') program.error(`tic cache: unknown action ${JSON.stringify(action)} (the only one is prune)`);
    const { CACHE_KEEP_MS, CACHE_KINDS, cacheBudgetBytes, cacheEntries, cacheRoot, pruneCache } = await import('../runtime/cache-dir.js');
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
    let budget = 0;
    try {
      budget = opts.maxMb !== undefined ? opts.maxMb * 2 ** 20 : cacheBudgetBytes();
    } catch (err) {
      program.error(`tic cache: ${(err as Error).message}`);
    }
    if (action === 'prune') {
      const r = pruneCache({ maxBytes: budget });
      console.log(`removed ${r.removed.length} entries (${mb(r.removed.reduce((n, e) => n + e.bytes, 0))}); ${mb(r.keptBytes)} left of a ${mb(budget)} budget` + (r.keptBytes > budget ? ` (entries used in the last ${CACHE_KEEP_MS / 60_000} minutes are kept)` : ''));
      return;
    }
    const entries = cacheEntries();
    console.log(`${cacheRoot()}: ${mb(entries.reduce((n, e) => n + e.bytes, 0))} in ${entries.length} entries; budget ${budget === 0 ? 'none (TIC_CACHE_MAX_MB=0)' : mb(budget)}, kept to after each build`);
    for (const kind of CACHE_KINDS) {
      const of = entries.filter((e) => e.kind === kind);
      if (of.length) console.log(`  ${kind.padEnd(12)} ${String(of.length).padStart(5)} entries ${mb(of.reduce((n, e) => n + e.bytes, 0)).padStart(9)}`);
    }
  });

const positiveWhole = (unit: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`expected a positive whole number of ${unit}, got ${JSON.stringify(v)}`);
  return n;
};
const positiveInt = positiveWhole('milliseconds');
/** `--check MODE`: the pre-flight check of cells (runtime/check.ts). */
const checkOption = () =>
  new Option('--check <mode>', "check each cell's SDK calls before it runs: block refuses a cell with a certain mistake, warn only prints warnings").choices(CHECK_MODES).default(DEFAULT_CHECK_MODE);

addServerOptions(
  program
    .command('run')
    .description('run one Python cell in a fresh guest (the base guest, or the output folder of tic build) and print its output and final value; MCP server options (need DIR) serve the calls')
    .argument('[dir-or-file...]', '[DIR] [FILE]: a tic build output folder and/or a Python file to run as the cell')
    .option('-c, --code <code>', 'the cell source')
    .option('--handlers <file>', 'a .js or .ts module exporting the tool handlers (needs DIR)'),
)
  .option('--workspace <dir>', 'host folder mounted at /workspace (needs DIR; in memory otherwise)')
  .option('--timeout <ms>', 'time limit of the cell (with --handlers or --workspace)', positiveInt)
  .option('--no-snapshot', 'boot Python instead of starting from the snapshot (base guest only; for comparison)')
  .addOption(checkOption())
  .action(async (args: string[], opts: ServerCliOptions & { code?: string; handlers?: string; workspace?: string; timeout?: number; snapshot: boolean; check: CheckMode }) => {
    const guestDir = args[0] !== undefined && isGuestDir(args[0]) ? args[0] : undefined;
    const rest = guestDir ? args.slice(1) : args;
    if (rest.length > 1 || (rest.length === 1) === (opts.code !== undefined)) {
      program.error('tic run: give exactly one of -c CODE or FILE (after an optional tic build folder)');
    }
    const inSession = Boolean(opts.handlers || hasServers(opts) || opts.workspace);
    if (inSession && !guestDir) program.error('tic run: --handlers, MCP servers and --workspace need the output folder of tic build first');
    const code = opts.code ?? readFileSync(rest[0]!, 'utf8');
    const status =
      guestDir && inSession
        ? await (await import('./session.js')).runInSession(guestDir, code, { ...opts, ...(opts.timeout ? { timeoutMs: opts.timeout } : {}) })
        : await runCommand(code, { snapshot: opts.snapshot, check: opts.check, ...(guestDir ? { guestDir } : {}) });
    // Exit as soon as the output is flushed: an idle Node lingers for 100 ms or more.
    process.stdout.write('', () => process.exit(status));
  });

addServerOptions(
  program
    .command('repl')
    .description('an interactive session on the output folder of tic build: cells share globals, SDK calls reach your handlers or MCP servers')
    .argument('<dir>', 'the output folder of tic build')
    .option('--handlers <file>', 'a .js or .ts module exporting the tool handlers'),
)
  .option('--workspace <dir>', 'host folder mounted at /workspace (in memory otherwise)')
  .option('--timeout <ms>', 'time limit of each cell', positiveInt)
  .addOption(checkOption())
  .action(async (dir: string, opts: ServerCliOptions & { handlers?: string; workspace?: string; timeout?: number; check: CheckMode }) => {
    if (!isGuestDir(dir)) program.error(`tic repl: ${dir} is not the output folder of tic build (no manifest.json)`);
    const { repl } = await import('./session.js');
    await repl(dir, { ...opts, ...(opts.timeout ? { timeoutMs: opts.timeout } : {}) });
    process.exit(0);
  });

addServerOptions(program.command('list-tools').description("print MCP servers' tools/list results, the input of tic build"))
  .option('-o, --out <path>', 'write to this file instead of stdout (a folder of NAMESPACE.json files for several servers)')
  .action(async (opts: ServerCliOptions & { out?: string }) => {
    const specs = await serverSpecs(opts);
    if (specs.length === 0) program.error('tic list-tools: give MCP servers with --mcp, --mcp-url or --config');
    const hub = await startServers(specs, opts, progress, true);
    const lists = hub.toolLists();
    await hub.close();
    const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
    if (lists.length === 1) {
      if (opts.out) {
        writeFileSync(opts.out, json(lists[0]!.list));
        progress(`${lists[0]!.list.tools.length} tools written to ${opts.out}`);
      } else process.stdout.write(json(lists[0]!.list));
    } else if (opts.out) {
      mkdirSync(opts.out, { recursive: true });
      for (const l of lists) writeFileSync(join(opts.out, `${l.namespace}.json`), json(l.list));
      progress(`${lists.map((l) => `${l.namespace}.json (${l.list.tools.length} tools)`).join(', ')} written to ${opts.out}`);
    } else process.stdout.write(json(Object.fromEntries(lists.map((l) => [l.namespace, l.list]))));
  });

addServerOptions(
  program
    .command('serve')
    .description('an MCP server with one tool, run_python, whose SDK reaches the tools of your MCP servers (stdio; --http PORT for Streamable HTTP at /mcp)'),
)
  .option('--dir <dir>', 'the output folder of an earlier tic build (default: build on start, cached)')
  .addOption(new Option('--http <port>', 'serve Streamable HTTP at http://HOST:PORT/mcp instead of stdio (0: any free port)').argParser((v) => (v === '0' ? 0 : positiveWhole('port')(v))))
  .option('--host <host>', 'address to bind with --http; anything but the loopback needs --token', '127.0.0.1')
  .option('--token <token>', 'bearer token every HTTP request must carry (default: $TIC_SERVE_TOKEN; required off the loopback)')
  .option('--allow-origin <origin>', 'a browser Origin allowed besides the loopback, e.g. https://app.example ("*": any) (repeatable)', collectValues)
  .option('--allow-host <host>', 'a Host header name accepted when bound off the loopback (repeatable)', collectValues)
  .addOption(new Option('--max-sessions <n>', 'sessions open at once over HTTP; more are refused until one ends').argParser(positiveWhole('sessions')).default(64))
  .option('--store <dir|redis://host:port>', 'checkpoint sessions after every cell into this folder or Redis: idle ones hibernate, a restart keeps them, several tic serve --http on one store share them')
  .addOption(new Option('--hibernate-after <duration>', 'with --store: release an idle session\'s worker after this long (default 30s)').argParser(duration))
  .addOption(new Option('--idle-timeout <duration>', 'end a session after this long without a call').argParser(duration).default(15 * 60_000, '15m'))
  .addOption(new Option('--timeout <duration>', 'time limit of each cell (default 30s)').argParser(duration))
  .addOption(new Option('--memory <mb>', "each session's guest memory limit in MB (default 256)").argParser(positiveWhole('megabytes')))
  .addOption(new Option('--call-timeout <duration>', 'time limit of one call to an upstream server (default 60s)').argParser(duration))
  .option('--workspace <dir>', 'give each session its own folder under DIR, mirrored at /workspace (in memory otherwise)')
  .addOption(new Option('--prompt-style <style>', 'how much the tool description (prompt.md) says, when building on start').choices(PROMPT_STYLES).default('compact'))
  .addOption(checkOption())
  .action(async (opts: ServerCliOptions & { dir?: string; http?: number; host: string; token?: string; allowOrigin?: string[]; allowHost?: string[]; maxSessions: number; store?: string; hibernateAfter?: number; idleTimeout: number; timeout?: number; memory?: number; workspace?: string; promptStyle: PromptStyle; check: CheckMode }) => {
    if (opts.dir !== undefined && !isGuestDir(opts.dir)) program.error(`tic serve: ${opts.dir} is not the output folder of tic build (no manifest.json)`);
    let specs = await serverSpecs(opts);
    if (specs.length === 0) {
      if (!opts.dir) program.error('tic serve: give MCP servers with --config, --mcp or --mcp-url (or --dir of a tic build of servers)');
      specs = await specsOfBuild(opts.dir!);
    }
    const { serve } = await import('../serve/serve.js');
    const running = await serve({
      servers: specs,
      ...(opts.dir ? { dir: opts.dir } : {}),
      ...(opts.http !== undefined ? { http: httpDoor(opts) } : {}),
      maxSessions: opts.maxSessions,
      ...(opts.store ? { store: opts.store } : {}),
      ...(opts.hibernateAfter !== undefined ? { hibernateAfterMs: opts.hibernateAfter } : {}),
      idleTimeoutMs: opts.idleTimeout,
      limits: { ...(opts.timeout ? { timeoutMs: opts.timeout } : {}), ...(opts.memory ? { memoryMb: opts.memory } : {}) },
      ...(opts.workspace ? { workspaceRoot: resolve(opts.workspace) } : {}),
      upstream: upstreamOptions(opts),
      promptStyle: opts.promptStyle,
      check: opts.check,
    });
    const stop = () => void running.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await running.closed;
    process.exit(0);
  });

/** The HTTP options of tic serve, with the token from the environment when not given. */
function collectValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function httpDoor(opts: { http?: number; host: string; token?: string; allowOrigin?: string[]; allowHost?: string[] }) {
  const token = opts.token ?? process.env.TIC_SERVE_TOKEN;
  return {
    port: opts.http!,
    host: opts.host,
    ...(token ? { token } : {}),
    ...(opts.allowOrigin ? { allowOrigins: opts.allowOrigin } : {}),
    ...(opts.allowHost ? { allowHosts: opts.allowHost } : {}),
  };
}

/** The servers an earlier build recorded, with env values from this environment. */
async function specsOfBuild(dir: string) {
  const { specFromRecord } = await import('../runtime/mcp/config.js');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { inputs: { server?: unknown; namespace?: string }[] };
  const specs = [];
  for (const input of manifest.inputs) {
    if (input.server === undefined || input.namespace === undefined) continue;
    const { spec, missing } = specFromRecord(input.server as never, input.namespace);
    if (missing.length) progress(`${input.namespace}: ${missing.join(', ')} not set here; give its server options (--config) for its secrets`);
    specs.push(spec);
  }
  if (specs.length === 0) program.error(`tic serve: ${dir} was not built from MCP servers; give them with --config, --mcp or --mcp-url`);
  return specs;
}

program
  .command('conformance')
  .description('run the conformance suite (conformance/cases): one line per case, a count per topic, then "N passed, N failed"')
  .option('--cases <dir>', 'run the case files of this folder (or one file) instead, same format and fixtures (conformance/README.md)')
  .option('--filter <text>', 'only topics or case files whose name contains this')
  .option('--json', 'print the results as JSON')
  .action(async (opts: { cases?: string; filter?: string; json?: boolean }) => {
    const { runConformance } = await import('../conformance/runner.js');
    const results = await runConformance({
      ...(opts.cases ? { casesDir: opts.cases } : {}),
      ...(opts.filter ? { filter: opts.filter } : {}),
      onResult: (r) => {
        if (opts.json) return;
        process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.topic}/${r.file}: ${r.name}${r.failure ? `\n       ${r.failure}` : ''}\n`);
      },
    });
    const failed = results.filter((r) => !r.ok).length;
    if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    else {
      const topics = new Map<string, { n: number; failed: number }>();
      for (const r of results) {
        const t = topics.get(r.topic) ?? { n: 0, failed: 0 };
        t.n++;
        if (!r.ok) t.failed++;
        topics.set(r.topic, t);
      }
      process.stdout.write(`\n${[...topics].map(([topic, t]) => `${topic.padEnd(16)} ${String(t.n).padStart(4)} cases${t.failed ? `, ${t.failed} failed` : ''}`).join('\n')}\n`);
    }
    process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
    process.exitCode = failed || results.length === 0 ? 1 : 0;
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CompileError) process.stderr.write(`${err.message}\n`);
  else if (err instanceof GuestBuildError) process.stderr.write(`tic: guest build failed: ${err.message}\n`);
  else process.stderr.write(`tic: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
