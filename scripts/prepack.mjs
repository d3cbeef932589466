#!/usr/bin/env node
// `npm pack` / `npm publish`: the package carries the base guest, so that installing it
// never compiles CPython. Builds it (or takes it from the cache) in this clone, and copies
// the artifacts to prebuilt/guest/, where findBaseGuest() looks first.

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const { buildGuest, prebuiltGuestDir } = await import(join(root, 'build', 'guest', 'build', 'index.js'));
const out = prebuiltGuestDir();
// Never pack a stale copy: the guest is looked up afresh (cache or source), not in prebuilt/.
rmSync(out, { recursive: true, force: true });
const guest = await buildGuest();
mkdirSync(out, { recursive: true });
for (const name of ['core.wasm', 'guest.wasm', 'python311.zip', 'info.json']) copyFileSync(join(guest.dir, name), join(out, name));
const mb = (f) => (statSync(join(out, f)).size / 1e6).toFixed(1);
console.error(`prepack: base guest ${guest.info.key} in ${out} (core.wasm ${mb('core.wasm')} MB, guest.wasm ${mb('guest.wasm')} MB, python311.zip ${mb('python311.zip')} MB)`);
