// How the guest's CPython is built for speed (issue #21): pymalloc on, sum()'s fast path
// kept in 64 bits on wasm32 (guest/patches/cpython-3.11-sum-long-long.patch) with the
// same results as a 64-bit native build, and an eval loop without its cold helpers
// (guest/patches/cpython-3.11-ceval-noinline.patch).

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildGuest } from './build/index.js';
import { Reader, SectionId, readImports, readSections } from '../runtime/snapshot/wasm-binary.js';
import { testGuestDir } from '../test-setup/session.js';
import { type Guest, loadGuest } from '../runtime/guest.js';
import type { Session } from '../runtime/session.js';

let guest: Guest;
let s: Session;

beforeAll(async () => {
  guest = await loadGuest(await testGuestDir(), { warm: 0 });
  s = await guest.createSession();
});

afterAll(async () => {
  await s.close();
  await guest.close();
});

async function value(code: string): Promise<string | undefined> {
  const r = await s.run(code);
  if (!r.ok) throw new Error(`${r.error?.type}: ${r.error?.message}\n${r.error?.traceback}`);
  return r.value;
}

it('is built with pymalloc', async () => {
  expect(await value('import sysconfig\nsysconfig.get_config_var("WITH_PYMALLOC")')).toBe('1');
});

it('sums ints past 2**31 and 2**63 as a 64-bit native build does', async () => {
  // Values printed by Debian's python3.11 (x86-64).
  expect(await value('sum(i * i for i in range(3_000_000))')).toBe('8999995500000500000');
  expect(await value('sum([2**31 - 1, 1, 2**62, 2**62, -5])')).toBe('9223372039002259451');
  expect(await value('sum([-2**63, -1]), sum([2**63 - 1, 1]), sum([2**62] * 3)')).toBe('(-9223372036854775809, 9223372036854775808, 13835058055282163712)');
  expect(await value('sum([1, 2.5]), sum([True] * 3), sum(range(10), 2**70), sum([], -2**40)')).toBe('(3.5, 3, 1180591620717411303469, -1099511627776)');
});

/** Each defined function's name (from the `name` section) and body size in bytes. */
function functionSizes(wasm: Uint8Array): Map<string, number> {
  const sections = readSections(wasm);
  const imported = readImports(sections.find((x) => x.id === SectionId.import)!.payload).filter((i) => i.kind === 0).length;
  const names = new Map<number, string>();
  for (const sec of sections.filter((x) => x.id === SectionId.custom)) {
    const r = new Reader(sec.payload);
    if (r.name() !== 'name') continue;
    while (!r.done) {
      const id = r.byte();
      const sub = new Reader(r.take(r.u32()));
      if (id !== 1) continue;
      for (let n = sub.u32(); n > 0; n--) names.set(sub.u32(), sub.name());
    }
  }
  const code = new Reader(sections.find((x) => x.id === SectionId.code)!.payload);
  const sizes = new Map<string, number>();
  for (let i = 0, n = code.u32(); i < n; i++) {
    const size = code.u32();
    code.take(size);
    sizes.set(names.get(imported + i) ?? `#${imported + i}`, size);
  }
  return sizes;
}

it("keeps the eval loop's cold helpers out of it, where V8 would optimize them with it", async () => {
  // Each is called from one place in _PyEval_EvalFrameDefault, so clang inlined it whatever
  // its size: the loop was 50.7 kB of wasm, and TurboFan took 160-220 ms to optimize it in
  // every new process (43.4 kB and 110-165 ms without them).
  const sizes = functionSizes(readFileSync((await buildGuest({ log: () => {} })).coreWasm));
  const helpers = ['import_name', 'import_from', 'import_all_from', 'match_class', 'match_keys', 'exception_group_match', 'check_except_type_valid', 'check_except_star_type_valid', 'check_args_iterable', 'format_awaitable_error', 'format_exc_unbound', 'get_exception_handler', 'trace_call_function', 'trace_function_entry', 'do_call_core'];
  expect(helpers.filter((h) => !sizes.has(h))).toEqual([]);
  expect(sizes.get('_PyEval_EvalFrameDefault')).toBeLessThan(46_000);
});
