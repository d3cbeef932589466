import { describe, expect, it } from 'vitest';
import { main } from './tidy.js';

describe('the filesystem example', () => {
  it('moves the same files as the direct calls (checked inside) and costs fewer tokens', async () => {
    const r = await main();
    expect(r.answer).toMatch(new RegExp(`^Done: moved ${r.moved} of 80 files into invoices/`));
    expect(r.moved).toBeGreaterThan(5);
    expect(r.ratio).toBeLessThan(0.25);
  }, 300_000);
});
