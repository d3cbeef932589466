// V8 settings for the guest's code: set once per process, before a guest module is
// compiled (flags are process-wide; V8 reads them when it compiles the module, and TurboFan
// again when it tiers a function up: measured, setting them only after the compile loses
// most of their gain).
//
// V8 refuses a code cache made under other flags, and Node boots every worker thread from
// its code cache of Node's own modules: a worker that starts after a flag has changed
// compiles them all again, 25-30 ms more per worker on this machine (an empty worker:
// 26 -> 52 ms). So loadGuest lets its first worker boot before it sets them (that worker
// is what a new process's first session waits for); later workers pay it.
// TIC_V8_DEFAULTS=1 keeps V8's own settings (to compare, or if one misbehaves).

import { setFlagsFromString } from 'node:v8';

let tuned = false;

export function tuneV8ForGuest(): void {
  if (tuned) return;
  tuned = true;
  if (process.env.TIC_V8_DEFAULTS === '1') return;
  // TurboFan gives a "huge" function (more than about 8k virtual registers) its mid-tier
  // register allocator, to compile it faster. CPython's eval loop (_PyEval_EvalFrameDefault,
  // 43 kB of wasm) is one, and the hottest function of every cell: with the full allocator
  // it compiles once per process in about 0.1 s more (110-165 ms against 50-75; in the
  // background, Liftoff code runs meanwhile) and Python code runs about 5-10% faster.
  setFlagsFromString('--no-turbo-use-mid-tier-regalloc-for-huge-functions');
  // Inlining of small wasm functions into their wasm callers (V8 11.3, Node 20: off by
  // default and marked experimental; later V8 versions turn it on): the guest is a C program
  // whose hot paths call small functions across translation units (refcounting, pymalloc,
  // int boxing), which clang could not inline without LTO. About 9% faster over the five
  // workloads, json 16%. CPython's own test suite runs with it (cpython-tests/run.ts).
  setFlagsFromString('--wasm-inlining');
  // Not --wasm-lazy-validation (15 of the 20 ms of a process's first compile): it is
  // process-wide, and a host's other modules rely on WebAssembly.compile refusing invalid
  // code (libraries probe the engine's features that way; Pyodide's start failed with it).
  // `tic run`, a process of its own, sets it (cli/run.ts).
}
