#!/usr/bin/env node
// The `tic` command, built by `npm run build` (scripts/build.mjs; `npm ci` runs it): the
// bundle, which loads in a fraction of the time; in a clone of the repository, not when tsc
// has rewritten build/ since (an installed package's file times are when npm unpacked it).
import { existsSync, statSync } from 'node:fs';

const at = (path) => new URL(path, import.meta.url);
const mtime = (path) => statSync(at(path), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = existsSync(at('../build/bundle/tic.js')) && (!existsSync(at('../.git')) || mtime('../build/bundle/tic.js') >= mtime('../build/cli/tic.js'));
await import(bundled ? '../build/bundle/tic.js' : '../build/cli/tic.js');
