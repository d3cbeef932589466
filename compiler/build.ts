// `tic build` as a library function: tool schemas in, guest artifacts out.
// load -> normalize -> emit Python -> emit TypeScript and validators -> packages -> emit prompt -> snapshot -> manifest.

import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type Snapshotter, buildGuest, defaultSnapshotter, snapshotterId } from '../guest/build/index.js';
import { packageVersion } from '../runtime/package-root.js';
import { VALIDATORS_FILE } from '../runtime/validators.js';
import { CompileError, type Diagnostic, Diagnostics } from './diagnostics.js';
import { CHECK_TABLE_FILE, emitCheckTable } from './emit-check.js';
import { emitPrompt, type PromptStyle } from './emit-prompt.js';
import { emitPython } from './emit-python.js';
import { emitTypeScript } from './emit-typescript.js';
import { emitValidators } from './emit-validators.js';
import { type ToolFormat, loadToolsFile, loadToolsText } from './load.js';
import { type ToolIR, normalize } from './normalize.js';
import { type ManifestPackage, type ManifestSetup, userPython } from './packages.js';
import { NameScope, SDK_EXPORTS, identifier, isPythonIdentifier } from './python/names.js';
import { snapshotWithSdk } from './snapshot.js';

/** A tool list already in memory instead of a file: e.g. what a live MCP server listed. */
export interface ToolListInput {
  /** Names it in messages, as a file name would: `MCP server "kg"`. */
  label: string;
  /** The tool list, in any shape a file may have (an MCP `tools/list` result for a server). */
  list: unknown;
  /** Its namespace in the SDK; taken as is (a Python identifier, unique in the build). */
  namespace: string;
  /** How its server is reached, for the manifest (no secrets: env and header names only). */
  server?: unknown;
}

export interface BuildOptions {
  /** Tool list files (JSON or YAML; OpenAI, Anthropic or MCP shapes), or tool lists in memory. */
  inputs: (string | ToolListInput)[];
  outDir: string;
  /** A name for this build, recorded in the manifest. Default: the first input's base name. */
  name?: string;
  /** Python module the SDK is imported as. Default `tools`. */
  moduleName?: string;
  /**
   * One namespace (Python submodule) per input, in order. Default: none for one input,
   * the inputs' base names for several.
   */
  namespaces?: string[];
  promptStyle?: PromptStyle;
  /** The user's pure-Python packages: folders (a package or a site-packages), .py modules, wheels, zips. */
  packages?: string[];
  /** Modules imported before the snapshot (first `import` in a session is free). */
  preload?: string[];
  /** A Python file run in the snapshot after the SDK: its globals are in every session. */
  setup?: string;
  /** Pre-initialize the guest with the SDK imported (default). Without: faster builds, slower sessions. */
  snapshot?: boolean;
  /**
   * Who takes the snapshot: `tic` (default; the TypeScript writer, any platform) or
   * `wizer` (the native binary, linux-x64 only; kept to compare the two).
   */
  snapshotter?: Snapshotter;
  log?: (line: string) => void;
  cacheDir?: string;
}

export interface ManifestTool {
  name: string;
  pyName: string;
  namespace?: string;
}

export interface Manifest {
  tooliscode: string;
  python: string;
  /** Who took the snapshot: `tic-snapshot/<n>` or `wizer <version> <flags>` (absent with --no-snapshot). */
  snapshotter?: string;
  /** IANA time-zone database version in the guest's stdlib (absent before it had one). */
  tzdata?: string;
  name: string;
  module: string;
  promptStyle: PromptStyle;
  snapshot: boolean;
  baseGuest: string;
  /** SHA-256 of the base guest's artifacts (`tic guest --json`): which guest this was built from. */
  baseGuestSha256: { coreWasm: string; snapshotWasm: string; stdlibZip: string };
  /** `file` for a tool list file; `server` (how it is reached, never a secret) for a live MCP server. */
  inputs: { file?: string; server?: unknown; format: ToolFormat; sha256: string; namespace?: string }[];
  inputHash: string;
  tools: ManifestTool[];
  /** --package: each distribution bundled in packages.zip (only when given). */
  packages?: ManifestPackage[];
  /** --preload (only when given). */
  preload?: string[];
  /** --setup (only when given). */
  setup?: ManifestSetup;
  /** sha256 of every artifact, by path relative to the output folder. */
  files: Record<string, string>;
}

export interface BuildResult {
  outDir: string;
  manifest: Manifest;
  warnings: Diagnostic[];
  snapshotCached: boolean;
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export { packageVersion };

const labelOf = (input: string | ToolListInput) => (typeof input === 'string' ? input : input.label);

function namespacesFor(all: (string | ToolListInput)[], given: string[] | undefined): (string | undefined)[] {
  const inputs = all.map(labelOf);
  const lists = all.filter((i): i is ToolListInput => typeof i !== 'string');
  if (lists.length) {
    // Tool lists bring their namespaces; files around them get theirs from their names.
    if (given) throw new CompileError([{ severity: 'error', file: inputs.join(', '), path: '', message: 'namespaces of MCP servers come from their names: give --namespace only for a build of files' }]);
    const bad = lists.find((l) => !isPythonIdentifier(l.namespace));
    if (bad) throw new CompileError([{ severity: 'error', file: bad.label, path: '', message: `namespace ${JSON.stringify(bad.namespace)} is not a Python identifier` }]);
    const scope = new NameScope([...SDK_EXPORTS, ...lists.map((l) => l.namespace)], true);
    if (new Set(lists.map((l) => l.namespace)).size !== lists.length) throw new CompileError([{ severity: 'error', file: inputs.join(', '), path: '', message: 'namespaces must differ from each other' }]);
    return all.map((i) => (typeof i === 'string' ? scope.allocate(identifier(basename(i).replace(/\.(json|ya?ml)$/i, ''), 'snake')) : i.namespace));
  }
  if (given) {
    if (given.length !== inputs.length) {
      throw new CompileError([{ severity: 'error', file: inputs.join(', '), path: '', message: `${given.length} namespace(s) given for ${inputs.length} input file(s): give one per file, in order` }]);
    }
    const bad = given.find((n) => !isPythonIdentifier(n));
    if (bad !== undefined) throw new CompileError([{ severity: 'error', file: inputs.join(', '), path: '', message: `namespace ${JSON.stringify(bad)} is not a Python identifier` }]);
    if (new Set(given).size !== given.length) throw new CompileError([{ severity: 'error', file: inputs.join(', '), path: '', message: 'namespaces must differ from each other' }]);
    return given;
  }
  if (inputs.length === 1) return [undefined];
  const scope = new NameScope([...SDK_EXPORTS], true);
  return inputs.map((f) => scope.allocate(identifier(basename(f).replace(/\.(json|ya?ml)$/i, ''), 'snake')));
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const moduleName = options.moduleName ?? 'tools';
  if (!isPythonIdentifier(moduleName)) {
    throw new CompileError([{ severity: 'error', file: '', path: '', message: `module name ${JSON.stringify(moduleName)} is not a Python identifier` }]);
  }
  const promptStyle = options.promptStyle ?? 'compact';
  const version = packageVersion();
  const namespaces = namespacesFor(options.inputs, options.namespaces);

  // load + normalize every input; errors of all files are reported together.
  const tools: ToolIR[] = [];
  const warnings: Diagnostic[] = [];
  const errors: Diagnostic[] = [];
  const inputs: Manifest['inputs'] = [];
  options.inputs.forEach((input, i) => {
    try {
      const text = typeof input === 'string' ? undefined : JSON.stringify(input.list);
      const loaded = typeof input === 'string' ? loadToolsFile(input) : loadToolsText(input.label, text!);
      const ns = namespaces[i];
      const { tools: list, diagnostics } = normalize(loaded, ns !== undefined ? { namespace: ns } : {});
      tools.push(...list);
      warnings.push(...diagnostics.warnings);
      inputs.push({
        ...(typeof input === 'string' ? { file: input } : input.server !== undefined ? { server: input.server } : {}),
        format: loaded.format,
        sha256: sha256(text ?? readFileSync(input as string)),
        ...(ns !== undefined ? { namespace: ns } : {}),
      });
    } catch (err) {
      if (err instanceof CompileError) errors.push(...err.diagnostics);
      else throw err;
    }
  });
  if (errors.length) throw new CompileError(errors);
  const labels = options.inputs.map(labelOf);
  log(`loaded ${tools.length} tools from ${options.inputs.length} ${options.inputs.every((i) => typeof i === 'string') ? 'file(s)' : 'input(s)'}`);

  const diags = new Diagnostics(labels.join(', '));
  const sdk = emitPython(tools, { moduleName, version, sources: labels.map((f) => basename(f)) }, diags);
  const dts = await emitTypeScript(tools, { version }, diags);
  // Schema constructs typed as Any come back as warnings of the file they are in.
  for (const d of diags.list) warnings.push({ ...d, file: tools.find((t) => t.name === d.tool)?.source.file ?? d.file });
  const out = options.outDir;
  mkdirSync(out, { recursive: true });
  const snapshot = options.snapshot ?? true;
  const snapshotter = options.snapshotter ?? defaultSnapshotter();

  // The guest: the base build (cached); the user's packages and setup checked in it.
  const base = await buildGuest({ ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), log: (l) => log(`guest: ${l}`) });
  const sdkLib = new Map<string, string>();
  for (const [rel, text] of sdk.files) sdkLib.set(`sdk/${rel}`, text);
  // The signature table of the guest's pre-flight check of cells (guest/python/_tic/check.py).
  sdkLib.set(`sdk/${CHECK_TABLE_FILE}`, emitCheckTable(sdk, moduleName));
  sdkLib.set('sdk/_tic_sdk.py', `# Generated by tooliscode ${version}: the SDK modules a session imports.\nMODULES = [${JSON.stringify(moduleName)}]\n`);
  const user = await userPython({
    ...(options.packages ? { packages: options.packages } : {}),
    ...(options.preload ? { preload: options.preload } : {}),
    ...(options.setup !== undefined ? { setup: options.setup } : {}),
    outDir: out, base, moduleName, sdkLib, sdkConfig: 'sdk/_tic_sdk.py', snapshot, log,
  });
  warnings.push(...user.warnings);
  const prompt = emitPrompt(sdk, { moduleName, style: promptStyle, notes: user.promptNotes });

  // Write the text artifacts. The SDK folder is replaced whole so no stale module stays.
  rmSync(join(out, 'sdk'), { recursive: true, force: true });
  const files = new Map<string, string | Uint8Array>();
  for (const [rel, text] of sdkLib) files.set(rel, rel === 'sdk/_tic_sdk.py' ? text + user.sdkConfigLines : text);
  files.set('tools.d.ts', dts);
  files.set(VALIDATORS_FILE, emitValidators(tools, version));
  files.set('prompt.md', prompt);
  files.set(
    'tools.json',
    JSON.stringify(
      tools.map((t) => ({
        name: t.name,
        pyName: t.pyName,
        ...(t.namespace !== undefined ? { namespace: t.namespace } : {}),
        description: t.description,
        inputSchema: t.inputSchema,
        ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
      })),
      null,
      2,
    ) + '\n',
  );
  for (const [rel, data] of files) {
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), data);
  }

  // The snapshot with the SDK, packages and setup (cached).
  const sdkFiles = new Map<string, string>();
  for (const rel of files.keys()) if (rel.startsWith('sdk/')) sdkFiles.set(rel.slice(4), join(out, rel));
  const sdkHash = sha256([...sdkFiles.keys()].sort().map((k) => `${k}\0${sha256(readFileSync(sdkFiles.get(k)!))}`).join('\n'));
  let snapshotCached = false;
  if (snapshot) {
    const snap = await snapshotWithSdk({ base, sdkFiles, sdkHash, extraLib: user.snapshotLib, snapshotter, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}), log });
    snapshotCached = snap.cached;
    copyFileSync(snap.wasm, join(out, 'guest.wasm'));
  } else {
    copyFileSync(base.coreWasm, join(out, 'guest.wasm'));
  }
  copyFileSync(base.stdlibZip, join(out, 'stdlib.zip'));

  const hashes: Record<string, string> = {};
  for (const rel of [...files.keys(), 'guest.wasm', 'stdlib.zip', ...user.runtimeLib].sort()) hashes[rel] = sha256(readFileSync(join(out, rel)));
  const manifest: Manifest = {
    tooliscode: version,
    python: base.info.python,
    ...(snapshot ? { snapshotter: snapshotterId(snapshotter) } : {}),
    ...(base.info.tzdata ? { tzdata: base.info.tzdata } : {}),
    name: options.name ?? (typeof options.inputs[0] === 'string' ? basename(options.inputs[0]).replace(/\.(json|ya?ml)$/i, '') : options.inputs.length === 1 ? options.inputs[0]!.namespace : 'mcp'),
    module: moduleName,
    promptStyle,
    snapshot,
    baseGuest: base.info.key,
    baseGuestSha256: base.info.sha256,
    inputs,
    inputHash: sha256(inputs.map((i) => `${i.namespace ?? ''}\0${i.sha256}`).join('\n')),
    tools: tools.map((t) => ({ name: t.name, pyName: t.pyName, ...(t.namespace !== undefined ? { namespace: t.namespace } : {}) })),
    ...(user.packages.length ? { packages: user.packages } : {}),
    ...(user.preload.length ? { preload: user.preload } : {}),
    ...(user.setup ? { setup: user.setup } : {}),
    files: hashes,
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { outDir: out, manifest, warnings, snapshotCached };
}
