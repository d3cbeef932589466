// V8 settings for the guest's code: set once per process, before a guest module is
// compiled (flags are process-wide; TurboFan reads them when it tiers a function up).

import { setFlagsFromString } from 'node:v8';

let tuned = false;

/**
 * TurboFan gives a "huge" function (more than about 8k virtual registers) its mid-tier
 * register allocator, to compile it faster. CPython's eval loop (_PyEval_EvalFrameDefault,
 * 50 kB of wasm) is one, and the hottest function of every cell: with the full allocator
 * it compiles once per process in about 0.1-0.5 s more (in the background, Liftoff code runs
 * meanwhile) and Python code runs about 10% faster (sum of 3M terms 367 -> 330 ms CPU).
 * TIC_V8_HUGE_FUNCTIONS=mid-tier keeps V8's default.
 */
export function tuneV8ForGuest(): void {
  if (tuned) return;
  tuned = true;
  if (process.env.TIC_V8_HUGE_FUNCTIONS === 'mid-tier') return;
  setFlagsFromString('--no-turbo-use-mid-tier-regalloc-for-huge-functions');
}
