import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildGuest } from '../guest/build/index.js';
import { initialMemory } from './checkpoint.js';
import { GuestInstance, compileGuest, lazyFileBytes } from './instance.js';
import { IMAGE_PAGE, loadMemoryImage, loadParkable, nonZeroRuns, splitGuest, splitModule } from './split-image.js';
import { SectionId, readSections } from './snapshot/wasm-binary.js';

describe('a snapshot split into its code and its memory image', () => {
  it('has the memory its data segments make, and no data section', async () => {
    const base = await buildGuest({ log: () => {} });
    const wasm = readFileSync(base.snapshotWasm);
    const split = splitModule(wasm)!;
    expect(Buffer.from(split.memory).equals(Buffer.from(initialMemory(wasm)))).toBe(true);
    expect(readSections(split.code).some((s) => s.id === SectionId.data)).toBe(false);
  });

  it('runs cells like the whole module, and is made once per guest file', async () => {
    const base = await buildGuest({ log: () => {} });
    const cache = mkdtempSync(join(tmpdir(), 'tic-split-'));
    const lib = { 'python311.zip': lazyFileBytes(base.stdlibZip) };
    for (let i = 0; i < 2; i++) {
      const image = await compileGuest(base.snapshotWasm, lib, true, { splitCacheDir: cache });
      expect(image.memoryImage).toBeDefined();
      const r = new GuestInstance(image).run('import json, sys\nprint(json.dumps(sys.version_info[:2]))\n6*7');
      expect(r).toMatchObject({ ok: true, stdout: '[3, 11]\n', value: '42' });
    }
    expect(readdirSync(join(cache, 'split'))).toHaveLength(1);
    expect(readdirSync(join(cache, 'split', readdirSync(join(cache, 'split'))[0]!)).filter((n) => n !== 'source')).toHaveLength(1);
    rmSync(cache, { recursive: true, force: true });
  });

  it('reads only the non-zero pages of the image into a fresh memory (which is zero elsewhere)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-split-'));
    const file = join(dir, 'memory.bin');
    const bytes = new Uint8Array(65536);
    bytes.fill(0xee, 0, IMAGE_PAGE); // page 0: not in the runs, so never read
    bytes.fill(0x11, 3 * IMAGE_PAGE, 5 * IMAGE_PAGE);
    writeFileSync(file, bytes);
    const memory = new WebAssembly.Memory({ initial: 1 });
    loadMemoryImage(memory, file, [3, 5]);
    const view = new Uint8Array(memory.buffer);
    expect(view.subarray(0, IMAGE_PAGE).every((b) => b === 0)).toBe(true);
    expect(view.subarray(3 * IMAGE_PAGE, 5 * IMAGE_PAGE).every((b) => b === 0x11)).toBe(true);
    loadMemoryImage(memory, file); // without runs: all of it
    expect(view[0]).toBe(0xee);
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves a module with passive segments or a datacount section whole', () => {
    // (module (memory 1) (data "x")) with a datacount section, and with the segment passive.
    const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const memory = [0x05, 0x03, 0x01, 0x00, 0x01];
    const datacount = [0x0c, 0x01, 0x01];
    const active = [0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x78];
    const passive = [0x0b, 0x04, 0x01, 0x01, 0x01, 0x78];
    expect(splitModule(Uint8Array.from([...header, ...memory, ...active]))?.memory[0]).toBe(0x78);
    expect(splitModule(Uint8Array.from([...header, ...memory, ...datacount, ...active]))).toBeUndefined();
    expect(splitModule(Uint8Array.from([...header, ...memory, ...datacount, ...passive]))).toBeUndefined();
  });

  it('keeps one entry per file: a rewritten file replaces its old entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-split-'));
    const file = join(dir, 'm.wasm');
    const wasm = (byte: number) => Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, byte]);
    writeFileSync(file, wasm(1));
    const first = splitGuest(file, join(dir, 'cache'))!;
    expect(readFileSync(first.memoryPath)[0]).toBe(1);
    expect(first.runs).toEqual(nonZeroRuns(readFileSync(first.memoryPath)));
    writeFileSync(file, wasm(2));
    utimesSync(file, 1, 1);
    const second = splitGuest(file, join(dir, 'cache'))!;
    expect(readFileSync(second.memoryPath)[0]).toBe(2);
    const [entry] = readdirSync(join(dir, 'cache', 'split'));
    expect(readdirSync(join(dir, 'cache', 'split', entry!)).filter((n) => n !== 'source')).toHaveLength(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops the entries of guest files that are gone when it makes a new one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-split-'));
    const wasm = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 7]);
    writeFileSync(join(dir, 'a.wasm'), wasm);
    writeFileSync(join(dir, 'b.wasm'), wasm);
    splitGuest(join(dir, 'a.wasm'), join(dir, 'cache'));
    expect(readdirSync(join(dir, 'cache', 'split'))).toHaveLength(1);
    rmSync(join(dir, 'a.wasm')); // a build in a temporary folder, deleted
    splitGuest(join(dir, 'b.wasm'), join(dir, 'cache'));
    const left = readdirSync(join(dir, 'cache', 'split'));
    expect(left).toHaveLength(1);
    expect(readFileSync(join(dir, 'cache', 'split', left[0]!, 'source'), 'utf8')).toBe(join(dir, 'b.wasm'));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('a parkable guest', () => {
  it('imports its memory, shared; starts from the snapshot memory image, whose non-zero pages it lists; made once per file', async () => {
    const base = await buildGuest({ log: () => {} });
    const cache = mkdtempSync(join(tmpdir(), 'tic-park-'));
    const whole = initialMemory(readFileSync(base.snapshotWasm));
    for (const cacheDir of [cache, cache, undefined]) {
      const p = loadParkable(base.snapshotWasm, cacheDir)!;
      const imports = WebAssembly.Module.imports(await WebAssembly.compile(p.code as Uint8Array<ArrayBuffer>));
      expect(imports.filter((i) => i.kind === 'memory')).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      expect(Buffer.from(new Uint8Array(p.parking.image)).equals(Buffer.from(whole))).toBe(true);
      // The runs cover every non-zero page, and only those.
      const image = new Uint8Array(p.parking.image);
      const inRun = new Set<number>();
      for (let i = 0; i < p.parking.runs.length; i += 2) for (let q = p.parking.runs[i]!; q < p.parking.runs[i + 1]!; q++) inRun.add(q);
      for (let q = 0; q < image.length / IMAGE_PAGE; q++) expect(inRun.has(q)).toBe(image.subarray(q * IMAGE_PAGE, (q + 1) * IMAGE_PAGE).some((b) => b !== 0));
      expect(p.globals.length).toBeGreaterThan(0);
    }
    expect(readdirSync(join(cache, 'split'))).toHaveLength(1); // made once, read the second time
    rmSync(cache, { recursive: true, force: true });
  });
});
