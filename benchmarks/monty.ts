// @pydantic/monty (a Python-subset interpreter in Rust, a native addon) as a benchmark peer.
// It is optional: `loadMonty()` says why it cannot be used (not installed, no build for this
// platform) and every Monty row is then left out with that note.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../runtime/package-root.js';
import { type Stats, stats } from './runtime.js';

/**
 * The part of @pydantic/monty's API the bench uses, declared here: the package is installed
 * by `npm run bench` itself (scripts/setup.mjs --monty), not by npm ci, so its own types may
 * be absent when the project is type-checked.
 */
type Resumable = { resume(arg?: Record<string, unknown>): Progress };
type Progress = InstanceType<MontyModule['MontyComplete']> | InstanceType<MontyModule['MontyNameLookup']> | InstanceType<MontyModule['MontySnapshot']>;
export interface MontyModule {
  Monty: new (code: string) => { run(): unknown; start(options: Record<string, unknown>): Progress };
  MontyComplete: new () => { output: unknown };
  MontyNameLookup: new () => Resumable & { variableName: string };
  MontySnapshot: new () => Resumable & { functionName: string; args: unknown[]; kwargs: Record<string, unknown> };
  MountDir: new (path: string, dir: string, options: { mode: 'read-only' | 'read-write' }) => object;
  MontyRepl: { new (): MontyReplSession; load(data: Buffer): MontyReplSession };
}
export interface MontyReplSession {
  feed(code: string): unknown;
  dump(): Buffer;
}
/** Monty's entry as `npm run bench` installed it (.bench-peers/), if it did. */
export function montyEntry(): string | undefined {
  const peer = join(packageRoot(), '.bench-peers', 'node_modules', '@pydantic', 'monty', 'wrapper.js');
  return existsSync(peer) ? peer : undefined;
}

/** A variable, so that the type checker does not look for the package. */
const MONTY = '@pydantic/monty';

/** What a child process imports to get Monty: the copy in .bench-peers/, else the package name. */
export function montySpecifier(): string {
  const entry = montyEntry();
  return entry ? pathToFileURL(entry).href : MONTY;
}

let loaded: Promise<{ monty?: MontyModule; version?: string; missing?: string }> | undefined;

/** The Monty module, or why it is missing. */
export function loadMonty(): Promise<{ monty?: MontyModule; version?: string; missing?: string }> {
  loaded ??= (async () => {
    try {
      // npm run bench installs it into .bench-peers/ (scripts/setup.mjs --monty); a project's own install also works.
      const peer = montyEntry();
      const monty = (await import(peer ? pathToFileURL(peer).href : MONTY)) as MontyModule;
      new monty.Monty('1').run(); // the native addon loads on first use
      const { createRequire } = await import('node:module');
      let version: string | undefined;
      try {
        const req = createRequire(import.meta.url);
        version = (req((peer ?? req.resolve(MONTY)).replace(/wrapper\.js$/, 'package.json')) as { version: string }).version;
      } catch {
        version = undefined;
      }
      return { monty, ...(version ? { version } : {}) };
    } catch (err) {
      return { missing: `@pydantic/monty could not be loaded (${(err as Error).message.split('\n')[0]}); npm run bench installs it (scripts/setup.mjs --monty)` };
    }
  })();
  return loaded;
}

export interface MontyRun {
  stdout: string;
  output: unknown;
}

/**
 * Runs `code` to completion, calling `functions` for its external calls (positional
 * arguments, then the keyword arguments as one object, as Monty's own runMontyAsync does)
 * and resolving its name lookups to them. A function that throws raises its error in Python.
 */
export function montyRun(m: MontyModule, code: string, functions: Record<string, (...args: unknown[]) => unknown> = {}, options: { mount?: InstanceType<MontyModule['MountDir']>; maxDurationSecs?: number } = {}): MontyRun {
  let stdout = '';
  let progress = new m.Monty(code).start({
    printCallback: (_stream: string, text: string) => {
      stdout += text;
    },
    limits: { maxDurationSecs: options.maxDurationSecs ?? 30 },
    ...(options.mount ? { mount: options.mount } : {}),
  });
  while (!(progress instanceof m.MontyComplete)) {
    if (progress instanceof m.MontyNameLookup) {
      const fn = functions[progress.variableName];
      progress = fn ? progress.resume({ value: fn }) : progress.resume();
      continue;
    }
    const call = progress as InstanceType<MontyModule['MontySnapshot']>;
    const fn = functions[call.functionName];
    let value: unknown;
    try {
      if (!fn) throw Object.assign(new Error(`name '${call.functionName}' is not defined`), { name: 'NameError' });
      value = fn(...call.args, call.kwargs);
    } catch (err) {
      const e = err as Error;
      progress = call.resume({ exception: { type: /^[A-Z]\w*Error$/.test(e.name) ? e.name : 'RuntimeError', message: e.message } });
      continue;
    }
    progress = call.resume({ returnValue: value });
  }
  return { stdout, output: progress.output };
}

/** Milliseconds for a new sandbox to run `1` (parse + run; Monty keeps no interpreter state). */
export function montyNewSandbox(m: MontyModule): number {
  const t = performance.now();
  new m.Monty('1').run();
  return performance.now() - t;
}

/** Microseconds per call of a trivial external function, Python -> JS -> Python, timed around a loop of `calls`. */
export function montyHostCall(m: MontyModule, calls = 3000, rounds = 20): Stats {
  const ping = (n: unknown) => n;
  const code = `for i in range(${calls}):\n    ping(i)`;
  const loop = `for i in range(${calls}):\n    i`;
  montyRun(m, code, { ping }); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t = performance.now();
    montyRun(m, code, { ping });
    const withCalls = performance.now() - t;
    t = performance.now();
    montyRun(m, loop);
    const bare = performance.now() - t;
    samples.push(((withCalls - bare) * 1000) / calls);
  }
  return stats(samples);
}

/** RSS added per idle Monty REPL that has run one cell, in a fresh process (MB). */
export function montyRssPerRepl(count = 100): number {
  const script = `import { MontyRepl } from ${JSON.stringify(montySpecifier())};
    const gc = globalThis.gc; const keep = [];
    const first = new MontyRepl(); first.feed('x = [i * i for i in range(1000)]'); keep.push(first);
    gc?.(); await new Promise((r) => setTimeout(r, 50)); gc?.();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < ${count}; i++) { const r = new MontyRepl(); r.feed('x = [i * i for i in range(1000)]\\nlen(x)'); keep.push(r); }
    gc?.(); await new Promise((r) => setTimeout(r, 50)); gc?.();
    console.log((process.memoryUsage().rss - before) / ${count} / 2 ** 20);`;
  return Number(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: packageRoot(), encoding: 'utf8' }));
}

/**
 * Monty's own sessions as data: a REPL that ran `setup` is dumped (`dump()`) after each
 * change and loaded (`MontyRepl.load`) to the result of `next`, as a checkpoint and a
 * restore of tooliscode are timed. Throws what Monty raised if it cannot run `setup`.
 */
export function montyDumpLoad(m: MontyModule, setup: string, change: (i: number) => string, next: string, rounds = 7): { bytes: number; dumpMs: Stats; loadToResultMs: Stats; result: string } {
  const repl = new m.MontyRepl();
  const failed = (out: unknown) => out instanceof Error || (typeof out === 'object' && out !== null && out.constructor?.name === 'MontyException');
  const first = repl.feed(setup);
  if (failed(first)) throw new Error(`Monty cannot run the session: ${String(first)}`);
  const dumpMs: number[] = [];
  const loadMs: number[] = [];
  let bytes = 0;
  let result = '';
  for (let i = 0; i < rounds; i++) {
    repl.feed(change(i));
    let t = performance.now();
    const data = repl.dump();
    dumpMs.push(performance.now() - t);
    bytes = data.length;
    t = performance.now();
    const out = m.MontyRepl.load(data).feed(next);
    loadMs.push(performance.now() - t);
    result = String(out);
  }
  return { bytes, dumpMs: stats(dumpMs), loadToResultMs: stats(loadMs), result };
}
