// The capture API on a module assembled here byte by byte (an imported global, mutable
// globals of three types, an immutable one, a data segment, a data count section, a
// memory that grows during the init), and on the real guest's core.wasm.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findBaseGuest } from '../../guest/build/index.js';
import { type GlobalSlot, MERGE_GAP, PAGE, capture, instrumentGlobals, memorySegments, restoreGlobals, writeSnapshot } from './capture.js';
import { SNAPSHOT_WRITER } from './initialize.js';
import { ExportKind, SectionId, Writer, findSection, readData, readExports, readGlobals, readMemories, readSections, writeModule } from './wasm-binary.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const vec = (items: Uint8Array[]) => {
  const w = new Writer().u32(items.length);
  for (const i of items) w.raw(i);
  return w.bytes();
};
const name = (s: string) => new Writer().name(s).bytes();
const cat = (...parts: Uint8Array[]) => {
  const w = new Writer();
  for (const p of parts) w.raw(p);
  return w.bytes();
};
const sleb = (n: bigint) => new Writer().signed(n).bytes();
const f64 = (x: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, x, true);
  return b;
};
const body = (code: Uint8Array) => {
  const w = new Writer().u32(code.length + 1).byte(0).raw(code); // no locals
  return w.bytes();
};

/**
 * Globals: 0 imported (env.g, i32 const), 1 mutable i32 = 5, 2 immutable i32 = 9,
 * 3 mutable i64 = 1, 4 mutable f64 = 0.5. Memory 1 page (max 4) with "hello" at 16.
 * init(): memory[1000] = 42, grows to 2 pages, memory[70000] = 7, globals 1/3/4 = 123/-5/2.5.
 * get(): global 1 + memory[1000].
 */
function tinyModule(): Uint8Array {
  const types = vec([bytes(0x60, 0, 0), bytes(0x60, 0, 1, 0x7f)]);
  const imports = vec([cat(name('env'), name('g'), bytes(3, 0x7f, 0))]);
  const funcs = vec([bytes(0), bytes(1)]);
  const memory = vec([bytes(1, 1, 4)]);
  const globals = vec([
    cat(bytes(0x7f, 1, 0x41), sleb(5n), bytes(0x0b)),
    cat(bytes(0x7f, 0, 0x41), sleb(9n), bytes(0x0b)),
    cat(bytes(0x7e, 1, 0x42), sleb(1n), bytes(0x0b)),
    cat(bytes(0x7c, 1, 0x44), f64(0.5), bytes(0x0b)),
  ]);
  const exports = vec([cat(name('memory'), bytes(2, 0)), cat(name('init'), bytes(0, 0)), cat(name('get'), bytes(0, 1))]);
  const init = body(
    cat(
      bytes(0x41), sleb(1000n), bytes(0x41), sleb(42n), bytes(0x3a, 0, 0), // i32.store8
      bytes(0x41, 1, 0x40, 0, 0x1a), // memory.grow 1; drop
      bytes(0x41), sleb(70000n), bytes(0x41, 7, 0x3a, 0, 0),
      bytes(0x41), sleb(123n), bytes(0x24, 1), // global.set 1
      bytes(0x42), sleb(-5n), bytes(0x24, 3),
      bytes(0x44), f64(2.5), bytes(0x24, 4),
      bytes(0x0b),
    ),
  );
  const get = body(cat(bytes(0x23, 1, 0x41), sleb(1000n), bytes(0x2d, 0, 0, 0x6a, 0x0b)));
  const code = vec([init, get]);
  const data = vec([cat(bytes(0, 0x41, 16, 0x0b), name('hello'))]);
  return writeModule([
    { id: SectionId.type, payload: types },
    { id: SectionId.import, payload: imports },
    { id: SectionId.function, payload: funcs },
    { id: SectionId.memory, payload: memory },
    { id: SectionId.global, payload: globals },
    { id: SectionId.export, payload: exports },
    { id: SectionId.dataCount, payload: bytes(1) },
    { id: SectionId.code, payload: code },
    { id: SectionId.data, payload: data },
    { id: SectionId.custom, payload: cat(name('note'), bytes(1, 2, 3)) },
  ]);
}

const envImports = { env: { g: new WebAssembly.Global({ value: 'i32', mutable: false }, 77) } };
const instantiate = (wasm: Uint8Array) => new WebAssembly.Instance(new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), envImports);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('capture on a hand-assembled module', () => {
  it('instruments the mutable globals it defines (not imported, not immutable), once', () => {
    const wasm = tinyModule();
    expect(WebAssembly.validate(wasm as Uint8Array<ArrayBuffer>)).toBe(true);
    const { wasm: inst, globals } = instrumentGlobals(wasm);
    expect(globals).toEqual<GlobalSlot[]>([
      { index: 1, type: 'i32', exportName: 'tic:global:1' },
      { index: 3, type: 'i64', exportName: 'tic:global:3' },
      { index: 4, type: 'f64', exportName: 'tic:global:4' },
    ]);
    expect(WebAssembly.validate(inst as Uint8Array<ArrayBuffer>)).toBe(true);
    const again = instrumentGlobals(inst);
    expect(again.globals).toEqual(globals);
    expect(sha(again.wasm)).toBe(sha(inst));
    const exports = readExports(findSection(readSections(inst), SectionId.export)!.payload);
    expect(exports.filter((e) => e.kind === ExportKind.global).map((e) => e.name)).toEqual(['tic:global:1', 'tic:global:3', 'tic:global:4']);
    // The custom section is kept.
    expect(readSections(inst).filter((s) => s.id === SectionId.custom)).toHaveLength(1);
  });

  it('captures memory and globals after the init and writes a module that starts there', () => {
    const wasm = tinyModule();
    const { wasm: inst, globals } = instrumentGlobals(wasm);
    const instance = instantiate(inst);
    (instance.exports.init as () => void)();
    const state = capture(instance, globals);
    expect(state.globals).toEqual([123, -5n, 2.5]);
    expect(state.memory.length).toBe(2 * PAGE);

    for (const source of [wasm, inst]) {
      const snap = writeSnapshot(source, state, globals, { removeExports: ['init'] });
      expect(WebAssembly.validate(snap as Uint8Array<ArrayBuffer>)).toBe(true);
      const sections = readSections(snap);
      expect(readMemories(findSection(sections, SectionId.memory)!.payload)).toEqual([{ flags: 1, min: 2, max: 4 }]);
      const data = readData(findSection(sections, SectionId.data)!.payload);
      expect(findSection(sections, SectionId.dataCount)!.payload).toEqual(bytes(data.length));
      expect(data.map((d) => d.bytes.length)).toEqual([5, 1, 1]); // "hello", memory[1000], memory[70000]
      const g = readGlobals(findSection(sections, SectionId.global)!.payload);
      expect(g.map((x) => x.mutable)).toEqual([true, false, true, true]);
      const snapInstance = instantiate(snap);
      expect(snapInstance.exports.init).toBeUndefined();
      expect((snapInstance.exports.get as () => number)()).toBe(123 + 42);
      const mem = new Uint8Array((snapInstance.exports.memory as WebAssembly.Memory).buffer);
      expect(mem.length).toBe(2 * PAGE);
      expect(new TextDecoder().decode(mem.subarray(16, 21))).toBe('hello');
      expect([mem[1000], mem[70000]]).toEqual([42, 7]);
      expect(sha(mem)).toBe(sha(state.memory));
      if (source === inst) {
        // An instrumented snapshot can have its globals read and written (a checkpoint's restore).
        expect(capture(snapInstance, globals).globals).toEqual([123, -5n, 2.5]);
        restoreGlobals(snapInstance, globals, [7, 2n ** 40n, -1.25]);
        expect(capture(snapInstance, globals).globals).toEqual([7, 2n ** 40n, -1.25]);
        expect((snapInstance.exports.get as () => number)()).toBe(7 + 42);
      } else {
        expect(snapInstance.exports['tic:global:1']).toBeUndefined();
      }
    }
  });

  it('is deterministic, and its output is pinned (bump SNAPSHOT_WRITER when this changes)', () => {
    const { wasm: inst, globals } = instrumentGlobals(tinyModule());
    const outputs = [0, 1].map(() => {
      const instance = instantiate(inst);
      (instance.exports.init as () => void)();
      return writeSnapshot(tinyModule(), capture(instance, globals), globals, { removeExports: ['init'] });
    });
    expect(sha(outputs[0]!)).toBe(sha(outputs[1]!));
    expect(SNAPSHOT_WRITER).toBe('tic-snapshot/2');
    expect(sha(outputs[0]!)).toMatchInlineSnapshot(`"ec5450347c1ae877f9f6db778765a1be1e34fe9806a377478993b78eab62fb10"`);
  });

  it('refuses what it cannot snapshot, with a reason', () => {
    const { wasm: inst, globals } = instrumentGlobals(tinyModule());
    const instance = instantiate(inst);
    const state = capture(instance, globals);
    expect(() => writeSnapshot(inst, state, globals, { removeExports: ['nope'] })).toThrow(/no export named "nope"/);
    expect(() => writeSnapshot(inst, { ...state, memory: state.memory.subarray(0, 100) }, globals)).toThrow(/whole 64 KiB pages/);
    expect(() => writeSnapshot(inst, { ...state, memory: new Uint8Array(5 * PAGE) }, globals)).toThrow(/maximum of 4/);
    expect(() => restoreGlobals(instance, globals, [1, 2, 3])).toThrow(/bigint/);
    expect(() => writeSnapshot(bytes(1, 2, 3), state, globals)).toThrow(/not a WebAssembly module/);
  });
});

describe('memorySegments', () => {
  it('drops zero runs, merges gaps of at most MERGE_GAP zeros, and caps the count', () => {
    const mem = new Uint8Array(PAGE);
    mem.set([1, 2, 3], 10);
    mem.set([4], 13 + MERGE_GAP); // gap of MERGE_GAP: merged
    mem.set([5, 6], 100); // far: its own segment
    mem[PAGE - 1] = 9;
    const segs = memorySegments(mem);
    expect(segs.map((s) => [s.offset, s.bytes.length])).toEqual([
      [10, 4 + MERGE_GAP],
      [100, 2],
      [PAGE - 1, 1],
    ]);
    // capped at 2: the smallest gap (13+gap .. 100) is merged first
    expect(memorySegments(mem, { maxSegments: 2 }).map((s) => [s.offset, s.bytes.length])).toEqual([
      [10, 92],
      [PAGE - 1, 1],
    ]);
    expect(memorySegments(new Uint8Array(PAGE))).toEqual([]);
    // unaligned views and odd lengths are fine too
    expect(memorySegments(mem.subarray(1, 104)).map((s) => [s.offset, s.bytes.length])).toEqual([
      [9, 4 + MERGE_GAP],
      [99, 2],
    ]);
  });
});

describe('capture on the real guest', () => {
  const base = findBaseGuest();
  it.skipIf(!base)('instruments core.wasm: the stack pointer is its one mutable global, and the result compiles', async () => {
    const core = new Uint8Array(readFileSync(base!.coreWasm));
    const { wasm, globals } = instrumentGlobals(core);
    expect(globals.length).toBeGreaterThanOrEqual(1);
    expect(globals.every((g) => g.type === 'i32')).toBe(true);
    await WebAssembly.compile(wasm as Uint8Array<ArrayBuffer>);
    // Everything but the export section is untouched.
    const a = readSections(core);
    const b = readSections(wasm);
    expect(b.map((s) => s.id)).toEqual(a.map((s) => s.id));
    a.forEach((s, i) => {
      if (s.id !== SectionId.export) expect(sha(b[i]!.payload)).toBe(sha(s.payload));
    });
  });
});
