// tic build --package / --preload / --setup end to end: a wheel this test makes, real
// pure-Python packages from Debian's archive, used from cells of fresh guests; the errors a
// user gets for native code, shadowing and failing setups; reproducible output.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGuest } from '../runtime/guest.js';
import { GuestInstance } from '../runtime/instance.js';
import { loadGuestImage } from '../runtime/load.js';
import { packageRoot } from '../runtime/package-root.js';
import { debianDistPackages, debianPackagesUnavailable } from '../benchmarks/debian-packages.js';
import { FIXTURES_DIR, sdkOf } from '../test-setup/sdk.js';
import { type BuildOptions, type BuildResult, build } from './build.js';
import { CompileError } from './diagnostics.js';
import { PROMPT_STYLES, emitPrompt } from './emit-prompt.js';

const TOOLS = join(FIXTURES_DIR, 'memory.json');
/** The CLI in a child process, without blocking this one (vitest's worker must stay responsive). */
function tic(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const NATIVE_NAME = '_core.cpython-311-x86_64-linux-gnu.so';

/** Writes a zip (a wheel when it has the wheel layout) with Python's zipfile: no pip. */
function writeZip(path: string, files: Record<string, string>): string {
  const script = 'import json, sys, zipfile\nfiles = json.load(sys.stdin)\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for k, v in files.items(): z.writestr(k, v)\n';
  const r = spawnSync('/usr/bin/python3.11', ['-c', script, path], { input: JSON.stringify(files), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return path;
}

function wheel(dir: string, name: string, version: string, files: Record<string, string>): string {
  const info = `${name}-${version}.dist-info`;
  const record = [...Object.keys(files), `${info}/METADATA`, `${info}/WHEEL`, `${info}/RECORD`].map((f) => `${f},,`).join('\n');
  return writeZip(join(dir, `${name}-${version}-py3-none-any.whl`), {
    ...files,
    [`${info}/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: made by the test\n`,
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
    [`${info}/RECORD`]: record,
  });
}

function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

async function guestOf(out: string) {
  const { image } = await loadGuestImage(out);
  return new GuestInstance(image);
}

/** Runs a cell; its printed output, or the error's traceback as a failure. */
function run(g: GuestInstance, code: string): string {
  const r = g.run(code);
  if (!r.ok) throw new Error(`${r.error?.type}: ${r.error?.message}\n${r.error?.traceback}\n${r.stderr}`);
  return r.stdout;
}

async function buildError(options: Partial<BuildOptions>): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'tic-pkg-err-'));
  try {
    await build({ inputs: [TOOLS], outDir: out, ...options });
  } catch (err) {
    if (err instanceof CompileError) return err.message;
    throw err;
  }
  throw new Error('the build did not fail');
}

const work = mkdtempSync(join(tmpdir(), 'tic-pkg-'));
const greetWheel = () =>
  wheel(work, 'greet', '1.2.3', {
    'greet/__init__.py': 'from .core import hello\nfrom importlib.resources import files\nWORDS = files(__name__).joinpath("words.txt").read_text().split()\n',
    'greet/core.py': 'def hello(name):\n    return f"hello, {name}"\n\ndef broken():\n    raise ValueError("inside the wheel")\n',
    'greet/words.txt': 'alpha beta',
  });

describe('a wheel made here, a single module and a setup script, snapshotted', () => {
  let out: string;
  let result: BuildResult;
  let logs: string[];
  let setupDir: string;
  beforeAll(async () => {
    out = join(work, 'out-a');
    setupDir = writeFiles(join(work, 'setup-a'), {
      'setup.py':
        'import json\nfrom greet import hello\nprint("setup: loading rates")\nRATES = json.loads(open("rates.json").read())\n' +
        'def convert(amount, currency):\n    return round(amount * RATES[currency], 2)\n' +
        'class Money:\n    pass\n_private = 1\nGREETING = hello("setup")\nSDK_SEEN = tools.__name__\n',
      'rates.json': '{"eur": 0.5, "gbp": 0.25}',
    });
    writeFiles(join(work, 'single'), { 'helpers_mod.py': 'def double(x):\n    return 2 * x\n' });
    logs = [];
    result = await build({
      inputs: [TOOLS],
      outDir: out,
      packages: [greetWheel(), join(work, 'single', 'helpers_mod.py')],
      preload: ['greet'],
      setup: join(setupDir, 'setup.py'),
      log: (l) => logs.push(l),
    });
  });

  it('imports the wheel (preloaded) and the module from a cell, with the wheel metadata', async () => {
    const g = await guestOf(out);
    expect(run(g, 'import sys\nprint("greet" in sys.modules, "helpers_mod" in sys.modules)')).toBe('True False\n');
    expect(
      run(
        g,
        'import greet, helpers_mod, importlib.metadata as md\n' +
          'print(greet.hello("cell"), greet.WORDS, helpers_mod.double(21))\n' +
          'print(md.version("greet"), greet.__file__)\n' +
          'try:\n    md.version("helpers_mod")\nexcept md.PackageNotFoundError:\n    print("no metadata for a single module")',
      ),
    ).toBe("hello, cell ['alpha', 'beta'] 42\n1.2.3 /lib/packages.zip/greet/__init__.pyc\nno metadata for a single module\n");
  });

  it('works the same in a session on a worker (loadGuest)', async () => {
    const guest = await loadGuest(out, { warm: 0 });
    const s = await guest.createSession();
    const r = await s.run('import greet\ngreet.hello("worker"), convert(4, "gbp")');
    await s.close();
    await guest.close();
    expect(r.value).toBe("('hello, worker', 1.0)");
  });

  it("quotes the package's source in a traceback", async () => {
    const r = (await guestOf(out)).run('import greet.core\ngreet.core.broken()');
    expect(r.error?.traceback).toContain('File "/lib/packages.zip/greet/core.py", line 5, in broken');
    expect(r.error?.traceback).toContain('raise ValueError("inside the wheel")');
  });

  it("gives every fresh session the setup's globals, and shows its output at build time", async () => {
    expect(logs).toContain('setup: setup: loading rates');
    for (let i = 0; i < 2; i++) {
      const g = await guestOf(out);
      expect(run(g, 'print(convert(10, "eur"), GREETING, SDK_SEEN, Money.__name__, _private)')).toBe('5.0 hello, setup tools Money 1\n');
      expect(run(g, 'print("__file__" in globals(), type(tools).__name__)')).toBe('False module\n');
    }
    expect(result.manifest.setup).toEqual(expect.objectContaining({ file: join(setupDir, 'setup.py'), names: ['hello', 'RATES', 'convert', 'Money', 'GREETING', 'SDK_SEEN'] }));
  });

  it('keeps the packages read-only under /lib, and the setup folder out of sessions', async () => {
    const g = await guestOf(out);
    const attempt = (code: string) => {
      const r = g.run(`import os\ntry:\n    ${code}\n    print("done")\nexcept OSError as e:\n    print(type(e).__name__)`);
      return r.stdout.trim();
    };
    expect(attempt('open("/lib/packages.zip", "wb").write(b"x")')).toMatch(/^(PermissionError|OSError)$/);
    expect(attempt('open("/lib/packages.zip", "r+b").write(b"x")')).toMatch(/^(PermissionError|OSError)$/);
    expect(attempt('os.remove("/lib/packages.zip")')).toMatch(/^(PermissionError|OSError)$/);
    expect(attempt('os.rename("/lib/packages.zip", "/workspace/p.zip")')).toMatch(/^(PermissionError|OSError)$/);
    expect(attempt('open("/lib/greet.py", "w").write("x")')).toMatch(/^(PermissionError|OSError)$/);
    expect(run(g, 'import os\nprint(os.path.exists("/lib/setup"), os.path.exists("/lib/packages.zip"))')).toBe('False True\n');
    // Nothing reached the host folder either.
    expect(readdirSync(setupDir).sort()).toEqual(['rates.json', 'setup.py']);
  });

  it('records each package in the manifest and lists them in prompt.md', () => {
    const m = result.manifest;
    expect(m.packages).toEqual([
      expect.objectContaining({ name: 'greet', version: '1.2.3', modules: ['greet'], metadata: 'greet-1.2.3.dist-info', leftOut: [], sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      expect.objectContaining({ name: 'helpers_mod', version: null, modules: ['helpers_mod'], metadata: null }),
    ]);
    expect(m.preload).toEqual(['greet']);
    expect(m.files['packages.zip']).toMatch(/^[0-9a-f]{64}$/);
    const prompt = readFileSync(join(out, 'prompt.md'), 'utf8');
    expect(prompt).toContain('Installed besides the standard library (import as usual): greet 1.2.3 (preloaded), helpers_mod.\n');
    expect(prompt).toContain('Defined by the setup script (already in globals): hello(), RATES, convert(), Money, GREETING, SDK_SEEN.\n');
  });

  it('builds byte-identical output from the same input, through the CLI', async () => {
    const again = join(work, 'out-a2');
    const cli = await tic('build', TOOLS, '-o', again, '--package', greetWheel(), '--package', join(work, 'single', 'helpers_mod.py'), '--preload', 'greet', '--setup', join(setupDir, 'setup.py'));
    expect(cli.stderr).toContain('tic: setup: setup: loading rates');
    expect(cli.status).toBe(0);
    const list = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? list(join(d, f)).map((x) => `${f}/${x}`) : [f]));
    expect(list(again).sort()).toEqual(list(out).sort());
    for (const f of list(out)) expect(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), f).toBe(true);
  });
});

const noApt = debianPackagesUnavailable();
if (noApt) console.warn(`skipping the Debian package tests: ${noApt}`);

describe.skipIf(noApt !== undefined)("Debian's python3-tabulate, python3-dateutil + python3-six and python3-yaml", () => {
  let out: string;
  let result: BuildResult;
  let yamlSo: string;
  beforeAll(async () => {
    const [tabulate, dateutil, six, yaml] = ['python3-tabulate', 'python3-dateutil', 'python3-six', 'python3-yaml'].map(debianDistPackages) as [string, string, string, string];
    yamlSo = readdirSync(join(yaml, 'yaml')).find((f) => f.endsWith('.so'))!;
    out = join(work, 'out-deb');
    // The tabulate package is given as the root of the unpacked .deb; the rest as dist-packages folders.
    result = await build({ inputs: [TOOLS], outDir: out, packages: [join(tabulate, '..', '..', '..', '..'), dateutil, six, yaml], preload: ['dateutil.parser', 'yaml'] });
  }, 900_000);

  it('uses them from a cell', async () => {
    const g = await guestOf(out);
    expect(
      run(
        g,
        'from tabulate import tabulate\nfrom dateutil import parser\nfrom dateutil.relativedelta import relativedelta\n' +
          'd = parser.parse("2024-01-31T10:00:00+02:00")\n' +
          'print(tabulate([["a", 1], ["b", 22]], headers=["k", "v"], tablefmt="github"))\n' +
          'print((d + relativedelta(months=1)).isoformat())',
      ),
    ).toBe('| k   |   v |\n|-----|-----|\n| a   |   1 |\n| b   |  22 |\n2024-02-29T10:00:00+02:00\n');
    expect(run(g, 'import importlib.metadata as md\nprint(md.version("tabulate"), md.version("python-dateutil"), md.version("six"), md.version("PyYAML"))')).toBe('0.8.9 2.8.2 1.16.0 6.0\n');
  });

  it('leaves out the native part of PyYAML with a warning; its pure-Python fallback works', async () => {
    expect(result.warnings.map((w) => w.message)).toContainEqual(expect.stringMatching(new RegExp(`^left out native file .*/dist-packages/yaml/${yamlSo.replace(/\./g, '\\.')}: native code cannot run in the guest$`)));
    expect(result.manifest.packages?.find((p) => p.name === 'PyYAML')?.leftOut).toEqual([expect.stringContaining(`yaml/${yamlSo}`)]);
    const g = await guestOf(out);
    expect(run(g, 'import yaml\nprint(yaml.__with_libyaml__, yaml.safe_load("a: [1, 2]"), yaml.safe_dump({"b": True}).strip())')).toBe("False {'a': [1, 2]} b: true\n");
  });
});

describe('what stops the build', () => {
  it('a package that needs its native extension: the file named, the traceback shown', async () => {
    const whl = wheel(work, 'fastcalc', '0.1.0', { 'fastcalc/__init__.py': `from ._core import add\n`, [`fastcalc/${NATIVE_NAME}`]: '\x7fELF not really' });
    const msg = await buildError({ packages: [whl] });
    expect(msg).toContain(`package fastcalc 0.1.0 fails to import (import fastcalc); native files were left out of it, which the guest cannot run: ${whl}:fastcalc/${NATIVE_NAME}`);
    expect(msg).toContain('File "/lib/packages.zip/fastcalc/__init__.py", line 1, in <module>');
    expect(msg).toContain("ModuleNotFoundError: No module named 'fastcalc._core'");
     // A wheel that is nothing but an extension module cannot work at all.
    const only = wheel(work, 'natonly', '2.0', { [`natonly${NATIVE_NAME.slice('_core'.length)}`]: 'x' });
    expect(await buildError({ packages: [only] })).toBe(`${only}: package natonly 2.0 is only native code, which the guest cannot run (${only}:natonly${NATIVE_NAME.slice('_core'.length)}): leave it out`);
  });

  it('a name that shadows the standard library, the SDK or another package', async () => {
    const dir = writeFiles(join(work, 'shadow'), { 'json.py': '', 'tools.py': '', 'other/six.py': '', 'more/six.py': '' });
    expect(await buildError({ packages: [join(dir, 'json.py')] })).toBe(`${join(dir, 'json.py')}: module json (${join(dir, 'json.py')}) would shadow the standard library's json: rename it or leave one out`);
    expect(await buildError({ packages: [join(dir, 'tools.py')] })).toContain('module tools');
    expect(await buildError({ packages: [join(dir, 'tools.py')] })).toContain('would shadow the SDK (tools)');
    expect(await buildError({ packages: [join(dir, 'other'), join(dir, 'more')] })).toContain(`module six (${join(dir, 'more', 'six.py')}) would shadow six from ${join(dir, 'other', 'six.py')}`);
  });

  it('a --preload that is nowhere, or whose import fails', async () => {
    expect(await buildError({ preload: ['nosuchthing'] })).toBe('--preload nosuchthing: no module named nosuchthing in the standard library and no --package gives one');
    const dir = writeFiles(join(work, 'bad-import'), { 'badpkg/__init__.py': 'import os\nraise RuntimeError("broken at import")\n' });
    const msg = await buildError({ packages: [join(dir, 'badpkg')], preload: ['badpkg'] });
    expect(msg).toContain('--preload badpkg: package badpkg fails to import (import badpkg)');
    expect(msg).toContain('File "/lib/packages.zip/badpkg/__init__.py", line 2, in <module>');
    expect(msg).toContain('RuntimeError: broken at import');
  });

  it('a setup that raises: its traceback, with the host path; and --setup without a snapshot', async () => {
    const dir = writeFiles(join(work, 'bad-setup'), { 'setup.py': 'X = 1\nprint("before")\n{}["missing"]\n' });
    const msg = await buildError({ setup: join(dir, 'setup.py') });
    expect(msg).toContain(`${join(dir, 'setup.py')}: the setup failed:\nTraceback (most recent call last):\n  File "${join(dir, 'setup.py')}", line 3, in <module>`);
    expect(msg).toContain("KeyError: 'missing'");
    expect(await buildError({ setup: join(dir, 'setup.py'), snapshot: false })).toContain('cannot be combined with --no-snapshot');
    expect(await buildError({ setup: join(dir, 'nope.py') })).toContain('--setup takes an existing Python file');
  });

  it('a bad --package on the command line: one line, exit 1', async () => {
    const r = await tic('build', TOOLS, '-o', join(work, 'out-cli-err'), '--package', join(work, 'missing'));
    expect(r.stderr.trimEnd().split('\n').pop()).toBe(`${join(work, 'missing')}: no such file or folder`);
    expect(r.status).toBe(1);
    expect((await tic('build', '--help')).stdout).toMatch(/--package <path>[\s\S]*--preload <names>[\s\S]*--setup <file.py>/);
  });

  it('an input that is not a package', async () => {
    const p = join(work, 'notes.txt');
    writeFileSync(p, 'x');
    expect(await buildError({ packages: [p] })).toBe(`${p}: expected a folder, a .py module, a .whl wheel or a .zip archive`);
    expect(await buildError({ packages: [join(work, 'missing')] })).toBe(`${join(work, 'missing')}: no such file or folder`);
    copyFileSync(p, join(work, 'broken.whl'));
    expect(await buildError({ packages: [join(work, 'broken.whl')] })).toMatch(/broken\.whl: not a readable zip archive/);
  });
});

describe('prompt notes', () => {
  it('puts the packages and setup lines in every prompt style, one line each', () => {
    const sdk = sdkOf(TOOLS);
    const notes = ['Installed besides the standard library (import as usual): tabulate 0.8.9 (preloaded).', 'Defined by the setup script (already in globals): convert(), RATES.'];
    for (const style of PROMPT_STYLES) {
      const prompt = emitPrompt(sdk, { moduleName: 'tools', style, notes });
      for (const n of notes) expect(prompt.split('\n')).toContain(n);
      expect(emitPrompt(sdk, { moduleName: 'tools', style, notes: [] })).toBe(emitPrompt(sdk, { moduleName: 'tools', style }));
    }
  });
});
