// Node built-ins that only some calls need, loaded on their first use. A static
// `import ... from 'node:crypto'` (or zlib, child_process, worker_threads) costs 1.5-3 ms
// each before anything runs, and `import 'tooliscode'` and `tic run` paid for all four
// (issue #21). `process.getBuiltinModule` (Node 20.16+) returns the loaded module; older
// Node 20 releases get it from require().

import { createRequire } from 'node:module';

type Builtins = {
  'node:crypto': typeof import('node:crypto');
  'node:zlib': typeof import('node:zlib');
  'node:child_process': typeof import('node:child_process');
  'node:worker_threads': typeof import('node:worker_threads');
};

let require: NodeJS.Require | undefined;

/** The built-in module `id`, loaded now if it is not yet. */
export function builtin<K extends keyof Builtins>(id: K): Builtins[K] {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (get ? get(id) : (require ??= createRequire(import.meta.url))(id)) as Builtins[K];
}
