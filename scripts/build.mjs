#!/usr/bin/env node
// The build: TypeScript to build/ (tsc), then the session worker bundled into one CommonJS
// file, build/runtime/session-worker.cjs. Every session's thread loads that script: as 13
// ES modules it took 42 ms from `new Worker` to running on this 2-core machine, as one file
// 28 ms (a new process's first session waits for it). runtime/guest.ts uses the bundle only
// when it is at least as new as tsc's session-worker.js (so a `tsc`-only build never runs
// a stale bundle).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const { build } = await import('esbuild');
await build({
  entryPoints: [join(root, 'build', 'runtime', 'session-worker.js')],
  outfile: join(root, 'build', 'runtime', 'session-worker.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  // The modules' own URL (builtins.ts's createRequire on Node before 20.16): the bundle's.
  define: { 'import.meta.url': '__bundleUrl' },
  banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
