// The compatibility runner counts what it should: a cell passes only when it runs without
// an error and prints exactly the expected output. Run on tooliscode alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CompatSystem, type Cell, compatGuestDir, nativePython, score, tooliscode } from './compat.js';

const cells: Cell[] = [
  { name: 'print', code: 'print(sum(range(10)))' },
  { name: 'host-call', code: 'print(lookup(id=3)["name"])' },
  { name: 'gather', code: 'import asyncio\nprint([r["id"] for r in await asyncio.gather(alookup(id=1), alookup(id=2))])' },
  { name: 'file', code: 'open("a.txt", "w").write("x")\nprint(open("a.txt").read())' },
  { name: 'wrong-expectation', code: 'print(1 + 1)' },
  { name: 'raises', code: 'print("before")\n1 / 0' },
];

describe('compatibility runner', () => {
  let tic: CompatSystem;
  beforeAll(async () => {
    tic = await tooliscode(await compatGuestDir());
  }, 300_000);
  afterAll(async () => {
    await tic?.close();
  });

  it('counts a wrong output and an error as failed, the rest as passed', async () => {
    const expected = { print: '45\n', 'host-call': 'item-3\n', gather: '[1, 2]\n', file: 'x\n', 'wrong-expectation': '3\n', raises: 'before\n' };
    const r = await score(tic, cells, expected);
    expect(r.total).toBe(6);
    expect(r.passed).toBe(4);
    expect(r.failed.map((f) => f.cell)).toEqual(['wrong-expectation', 'raises']);
    expect(r.failed[0]!.reason).toBe('line 1: expected "3", got "2"');
    expect(r.failed[1]!.reason).toMatch(/ZeroDivisionError/);
  });

  it('native CPython gives the same outputs for the cells that are right', async () => {
    const native = nativePython();
    const outputs = await Promise.all(cells.slice(0, 4).map((c) => native.run(c)));
    await native.close();
    expect(outputs).toEqual([{ stdout: '45\n' }, { stdout: 'item-3\n' }, { stdout: '[1, 2]\n' }, { stdout: 'x\n' }]);
  });
});
