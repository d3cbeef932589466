#!/usr/bin/env node
// The build: TypeScript to build/ (tsc), then two bundles made from tsc's output (esbuild),
// because Node loads one file much faster than dozens of ES modules (issue #21):
// - build/runtime/session-worker.cjs, the script of every session's thread, in one
//   CommonJS file: from `new Worker` to running, 42 -> 28 ms on this 2-core machine.
// - build/bundle/: the package's entry points (index, compiler, serve, code-mode), split
//   into shared chunks so that each class exists once whichever entries a program imports,
//   and apart from them the `tic` command; npm packages stay outside.
//   `import('tooliscode')`: 29 -> 14 ms.
//   build/bundle/meta.json says which modules of build/ each file holds.
// In a clone of the repository, a tsc-only build (npx tsc) leaves the bundles older than
// build/: the worker script and bin/tic.js then take the modules, and the package's entries
// refuse to load (they would be stale) until this script runs again. (An installed
// package's file times are when npm unpacked it, so none of this applies there.)

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { build } = await import('esbuild');
const common = { bundle: true, platform: 'node', target: 'node20', packages: 'external', logLevel: 'warning' };

await build({
  ...common,
  entryPoints: [join(buildDir, 'runtime', 'session-worker.js')],
  outfile: join(buildDir, 'runtime', 'session-worker.cjs'),
  format: 'cjs',
  // The modules' own URL (builtins.ts's createRequire on Node before 20.16): the bundle's.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
});

const bundleDir = join(buildDir, 'bundle');
rmSync(bundleDir, { recursive: true, force: true });
const bundle = async (entries, chunkNames) => {
  const { metafile } = await build({
    ...common,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(buildDir, file)])),
    outdir: bundleDir,
    format: 'esm',
    splitting: true,
    chunkNames,
    sourcemap: true,
    metafile: true,
  });
  return metafile;
};
// The command apart from the library: sharing chunks with it made the library load 14 files
// instead of 7. (The command's classes never meet a program's: handlers get plain values.)
const library = await bundle({ index: 'index.js', compiler: 'entry/compiler.js', serve: 'entry/serve.js', 'code-mode': 'entry/code-mode.js' }, 'chunk-[hash]');
const command = await bundle({ tic: 'cli/tic.js' }, 'tic-[hash]');
writeFileSync(join(bundleDir, 'meta.json'), JSON.stringify({ outputs: { ...library.outputs, ...command.outputs } }));

// The package's entries check that they are not older than tsc's output (see above).
const guard = `import { existsSync as __ticExists, statSync as __ticStat } from 'node:fs';
if (__ticExists(new URL('../../.git', import.meta.url)) && __ticStat(new URL('../index.js', import.meta.url)).mtimeMs > __ticStat(new URL(import.meta.url)).mtimeMs) throw new Error('tooliscode: build/bundle is older than build/ (tsc ran alone): run npm run build');
`;
for (const name of ['index', 'compiler', 'serve', 'code-mode']) {
  const file = join(bundleDir, `${name}.js`);
  // Appended before the source map comment, so that the map's lines stay right.
  const text = readFileSync(file, 'utf8').replace(/(\/\/# sourceMappingURL=[^\n]*\n?)$/, `${guard}$1`);
  writeFileSync(file, text);
}
