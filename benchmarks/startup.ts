// What a host pays before its first cell runs, for `npm run bench` (index.ts): importing the
// library's main entry, and a new process to a cell's first output through the library
// (`loadGuest` -> `createSession` -> `run('print(1)')`), each against a bare `node -e`.
// Also which modules an entry point loads (`loadedModules`), which `index.test.ts` uses to
// fail when the main entry loads the compiler, the MCP SDK or another heavy package eagerly.
//
// `node benchmarks/startup.js [DIR]` runs this section alone (DIR: a `tic build` output;
// default: a benchmark build made first).

import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../runtime/package-root.js';
import { VALIDATORS_FILE } from '../runtime/validators.js';
import { timeToFirstOutput } from './peers.js';
import { type Stats, benchGuestDir, stats } from './runtime.js';
import { runIfMain } from './script.js';

const root = packageRoot();

/** Packages a host that only runs sessions must not load: `import 'tooliscode'` loads none. */
export const HEAVY_PACKAGES = [
  'ts-morph',
  'typescript',
  'json-schema-to-typescript',
  'prettier',
  'handlebars',
  'yaml',
  '@modelcontextprotocol/sdk',
  'zod',
  'hono',
  '@hono/node-server',
  'ajv',
  'ajv-formats',
  'commander',
] as const;

// Records every module URL the ESM loader loads (a loader hook, in the hooks thread) into a
// file; CommonJS modules required from CommonJS bypass the hook, so the child also reports
// require.cache.
const HOOKS = `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context); }`;

export interface LoadedModules {
  /** file: URLs and node: builtins, in load order (ESM) then require.cache (CJS). */
  urls: string[];
  /** The npm packages among them (`@scope/name` or `name`), sorted. */
  packages: string[];
  /** The package's own modules, as paths under build/ (a bundle file stands for the modules it holds). */
  own: string[];
  /** How many files of the package were loaded (bundle files, or modules). */
  ownFiles: number;
}

/** The build/ modules each file of build/bundle/ holds (its meta.json, esbuild's metafile), keyed by path under build/. */
function bundleInputs(): Map<string, string[]> {
  const meta = JSON.parse(readFileSync(join(root, 'build', 'bundle', 'meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const under = (p: string) => p.replace(/^build\//, '');
  return new Map(Object.entries(meta.outputs).map(([out, o]) => [under(out), Object.keys(o.inputs).map(under)]));
}

/** The package name of a file URL or path under node_modules, or undefined. */
export function packageOf(url: string): string | undefined {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  return m?.[1];
}

/** Which modules `import(specifier)` loads in a fresh process (cwd: the package root, so `tooliscode` resolves to itself). */
export function loadedModules(specifier: string): LoadedModules {
  const dir = mkdtempSync(join(tmpdir(), 'tic-modules-'));
  const file = join(dir, 'urls.txt');
  const script = `import { register, createRequire } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), { data: { file: ${JSON.stringify(file)} } });
    await import(${JSON.stringify(specifier)});
    process.stdout.write(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  try {
    const cjs = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })) as string[];
    const esm = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const urls = [...esm, ...cjs.map((p) => `file://${p}`)];
    const packages = [...new Set(urls.map(packageOf).filter((p): p is string => p !== undefined))].sort();
    const buildDir = `file://${join(root, 'build')}/`;
    const files = [...new Set(urls.filter((u) => u.startsWith(buildDir)).map((u) => u.slice(buildDir.length)))];
    const inputs = files.some((f) => f.startsWith('bundle/')) ? bundleInputs() : new Map<string, string[]>();
    const own = [...new Set(files.flatMap((f) => inputs.get(f) ?? [f]))];
    return { urls, packages, own, ownFiles: files.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A script for `node --input-type=module -e` that prints 1 after importing `tooliscode`. */
const IMPORT_THEN_PRINT = "await import('tooliscode'); console.log(1);";

/** The same, printing how long the import took inside the process (ms). */
const IMPORT_MS = "const t = performance.now(); await import('tooliscode'); console.log(performance.now() - t);";

export interface StartupResult {
  /** Milliseconds from spawning node to the first byte on stdout, per variant. */
  process: Record<string, Stats>;
  /** `await import('tooliscode')` timed inside the process (ms). */
  importInProcess: Stats;
  /** What the main entry loads. */
  modules: { ownModules: number; ownFiles: number; packages: string[] };
}

/** A copy of the build in `dir` without validators.cjs: tool calls checked by ajv compiling the schema (the way before it). */
function withoutValidators(dir: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'tic-novalidators-')), 'dist');
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, VALIDATORS_FILE));
  return copy;
}

/** Alternates the variants round by round (a busy moment lands on all of them). */
export async function startup(dir: string, rounds = 10, log: (line: string) => void = () => {}): Promise<StartupResult> {
  const node = process.execPath;
  const bare = withoutValidators(dir);
  const variants: Record<string, string[]> = {
    'node -e (floor)': [node, '-e', 'console.log(1)'],
    "import('tooliscode'), then print": [node, '--input-type=module', '-e', IMPORT_THEN_PRINT],
    'library: loadGuest + createSession + first cell': [node, join(root, 'build', 'benchmarks', 'first-output.js'), dir],
    'library: the same, the cell printing a tool call\'s result': [node, join(root, 'build', 'benchmarks', 'first-output.js'), dir, 'call'],
    'library: the same, without the build\'s validators.cjs': [node, join(root, 'build', 'benchmarks', 'first-output.js'), bare, 'call'],
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const inProcess: number[] = [];
  log(`startup: ${rounds} rounds of ${Object.keys(variants).length + 1} processes`);
  for (let r = 0; r < rounds; r++) {
    for (const [name, args] of Object.entries(variants)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      samples[name]!.push(await timeToFirstOutput(args, process.env, root));
    }
    inProcess.push(Number(execFileSync(node, ['--input-type=module', '-e', IMPORT_MS], { cwd: root, encoding: 'utf8' })));
  }
  rmSync(dirname(bare), { recursive: true, force: true });
  const m = loadedModules('tooliscode');
  return {
    process: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)])),
    importInProcess: stats(inProcess),
    modules: { ownModules: m.own.length, ownFiles: m.ownFiles, packages: m.packages },
  };
}

const f = (n: number, d = 0) => n.toFixed(d);

export function startupMarkdown(s: StartupResult, section: string): string[] {
  const floor = s.process['node -e (floor)']!.median;
  const importRow = s.process["import('tooliscode'), then print"]!;
  const lib = s.process['library: loadGuest + createSession + first cell']!;
  const over = importRow.median - floor;
  const rows = Object.entries(s.process).map(
    ([name, st]) => `| ${name} | ${f(st.median)} ms | ${f(st.p90)} ms | ${f(st.min)} ms | ${f(st.max)} ms | ${(st.median / floor).toFixed(2)}x |`,
  );
  return [
    `## ${section}. Importing the library, and a new process to a cell's first output`,
    '',
    `Milliseconds from spawning \`node\` to the first byte on stdout, ${s.importInProcess.samples} rounds, alternating. The library rows run in the package folder, so \`tooliscode\` is the package itself; the last one is \`build/benchmarks/first-output.js\`: \`loadGuest(dir)\` (default options), \`createSession()\` and \`run('print(1)')\` with \`onStdout\` writing to stdout. The two rows after it run \`print(tools.ping(n=1)["n"])\` instead, a first cell that calls a tool (a sync handler), with the build as \`tic build\` writes it and with its \`validators.cjs\` removed: the arguments' check then loads ajv and compiles the tool's schema, as every first call did before.`,
    '',
    '| process | median | p90 | min | max | x node -e |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `\`await import('tooliscode')\` timed inside the process: median ${f(s.importInProcess.median, 1)} ms (p90 ${f(s.importInProcess.p90, 1)} ms). The main entry loads ${s.modules.ownModules} of the package's own modules (in ${s.modules.ownFiles} files of the bundle, \`build/bundle/\`) and ${s.modules.packages.length ? `these packages: ${s.modules.packages.join(', ')}` : 'no npm package'}; the compiler, \`serve\` and \`codeMode\` load on first call, the MCP client SDK on the first server start, ajv only for a check the build did not compile ahead (\`validators.cjs\`).`,
    '',
    `Targets: the import <= 40 ms over \`node -e 1\`: ${f(over)} ms over (${over <= 40 ? 'met' : 'not met'}). A new process to a cell's first output through the library <= 2x \`node -e 1\`: ${(lib.median / floor).toFixed(2)}x (${lib.median <= 2 * floor ? 'met' : 'not met'}).`,
  ];
}

/**
 * `startup` in a process of its own, which spawns the rounds: the bench's own process holds
 * Pyodide, sessions and hundreds of MB by then, and a big parent makes every spawn slower
 * (measured: `node -e` 102 ms from it against 62 ms from a small one), which flatters the ratios.
 */
export function startupInChild(dir: string, rounds: number): StartupResult {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), dir, '--json'], { cwd: root, encoding: 'utf8', env: { ...process.env, ROUNDS: String(rounds) }, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as StartupResult;
}

// `node build/benchmarks/startup.js [DIR] [--json]`: section 8 alone.
runIfMain(import.meta.url, async () => {
  const args = process.argv.slice(2).filter((a) => a !== '--json');
  const dir = args[0] ?? (await benchGuestDir());
  const s = await startup(dir, Number(process.env.ROUNDS ?? 10), (l) => process.stderr.write(`bench: ${l}\n`));
  process.stdout.write(process.argv.includes('--json') ? JSON.stringify(s) : `${startupMarkdown(s, 'S').join('\n')}\n`);
});
