// The folder of the tooliscode package, whether this code runs compiled (build/...) or
// from its TypeScript sources (under vitest).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tooliscode') {
      return (cached = dir);
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the tooliscode package folder');
    dir = up;
  }
}

/** The version of the tooliscode package (its package.json). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
