// How the guest's CPython is built for speed (issue #21): pymalloc on, and sum()'s fast
// path kept in 64 bits on wasm32 (guest/patches/cpython-3.11-sum-long-long.patch) with
// the same results as a 64-bit native build.

import { afterAll, beforeAll, expect, it } from 'vitest';
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
