// One capture, two uses: the state of a guest between calls is its linear memory and its
// mutable globals (no WebAssembly stack is live). The build writes it as a new module
// (the snapshot a session starts from, what Wizer did); a checkpoint stores it as data
// and restores it into an instance of that snapshot.
//
// Wizer's algorithm, in TypeScript: export every mutable global so the host can read it
// (instrumentGlobals), instantiate and run the initialization, read memory and globals
// (capture), and write a module whose data segments are the memory and whose globals
// start at the values read (writeSnapshot).

import {
  type DataSegment,
  type Export,
  ExportKind,
  type Global,
  SectionId,
  ValType,
  WasmFormatError,
  Writer,
  findSection,
  readData,
  readExports,
  readGlobals,
  readImports,
  readMemories,
  readSections,
  setSection,
  writeActiveData,
  writeExports,
  writeGlobals,
  writeMemories,
  writeModule,
  writeU32,
} from './wasm-binary.js';

export type GlobalType = 'i32' | 'i64' | 'f32' | 'f64';

export interface GlobalSlot {
  index: number;
  type: GlobalType;
  exportName: string;
}

export interface Capture {
  memory: Uint8Array;
  globals: (number | bigint)[];
}

export const PAGE = 65536;

const TYPE_NAMES: Record<number, GlobalType> = { [ValType.i32]: 'i32', [ValType.i64]: 'i64', [ValType.f32]: 'f32', [ValType.f64]: 'f64' };

export const globalExportName = (index: number) => `tic:global:${index}`;

function importedGlobalCount(sections: ReturnType<typeof readSections>): number {
  const imports = findSection(sections, SectionId.import);
  return imports ? readImports(imports.payload).filter((i) => i.kind === ExportKind.global).length : 0;
}

/**
 * Adds an export `tic:global:<index>` for every mutable global the module defines
 * (imported globals aside), unless already exported under that name; returns the new
 * bytes and the slots. Pure and deterministic.
 */
export function instrumentGlobals(wasm: Uint8Array): { wasm: Uint8Array; globals: GlobalSlot[] } {
  const sections = readSections(wasm);
  const imported = importedGlobalCount(sections);
  const globalSection = findSection(sections, SectionId.global);
  const defined = globalSection ? readGlobals(globalSection.payload) : [];
  const exportSection = findSection(sections, SectionId.export);
  const exports: Export[] = exportSection ? readExports(exportSection.payload) : [];
  const names = new Set(exports.map((e) => e.name));
  const slots: GlobalSlot[] = [];
  defined.forEach((g, i) => {
    if (!g.mutable) return;
    const index = imported + i;
    const type = TYPE_NAMES[g.type];
    if (!type) throw new WasmFormatError(`global ${index} is mutable and of type 0x${g.type.toString(16)}: only i32, i64, f32 and f64 globals can be captured`);
    const exportName = globalExportName(index);
    if (!names.has(exportName)) exports.push({ name: exportName, kind: ExportKind.global, index });
    slots.push({ index, type, exportName });
  });
  if (exports.length === (exportSection ? readExports(exportSection.payload).length : 0)) return { wasm, globals: slots };
  return { wasm: writeModule(setSection(sections, SectionId.export, writeExports(exports))), globals: slots };
}

/** Copies the instance's linear memory (exported as `memory`) and reads the slots' globals. */
export function capture(instance: WebAssembly.Instance, globals: GlobalSlot[]): Capture {
  const memory = instance.exports.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new TypeError('the instance exports no memory named "memory"');
  return { memory: new Uint8Array(memory.buffer).slice(), globals: globalValues(instance, globals) };
}

/** The slots' globals of an instance (the module was instrumented). */
export function globalValues(instance: WebAssembly.Instance, globals: GlobalSlot[]): (number | bigint)[] {
  return globals.map((slot) => {
    const g = instance.exports[slot.exportName];
    if (!(g instanceof WebAssembly.Global)) throw new TypeError(`the instance exports no global ${slot.exportName} (was the module instrumented?)`);
    return g.value as number | bigint;
  });
}

/** Writes the slots' values into an instance (mutable exported globals). */
export function restoreGlobals(instance: WebAssembly.Instance, globals: GlobalSlot[], values: (number | bigint)[]): void {
  if (values.length !== globals.length) throw new RangeError(`${values.length} values for ${globals.length} globals`);
  globals.forEach((slot, i) => {
    const g = instance.exports[slot.exportName];
    if (!(g instanceof WebAssembly.Global)) throw new TypeError(`the instance exports no global ${slot.exportName} (was the module instrumented?)`);
    g.value = checkedValue(slot, values[i]!);
  });
}

function checkedValue(slot: GlobalSlot, v: number | bigint): number | bigint {
  if (slot.type === 'i64') {
    if (typeof v !== 'bigint') throw new TypeError(`global ${slot.index} is i64: its value must be a bigint`);
    return v;
  }
  if (typeof v !== 'number') throw new TypeError(`global ${slot.index} is ${slot.type}: its value must be a number`);
  if (slot.type === 'i32' && !Number.isInteger(v)) throw new TypeError(`global ${slot.index} is i32: ${v} is not an integer`);
  return v;
}

/** The constant expression `<type>.const value; end`. */
function constExpr(slot: GlobalSlot, v: number | bigint): Uint8Array {
  const value = checkedValue(slot, v);
  const w = new Writer();
  switch (slot.type) {
    case 'i32':
      w.byte(0x41).signed(BigInt((value as number) | 0));
      break;
    case 'i64':
      w.byte(0x42).signed(BigInt.asIntN(64, value as bigint));
      break;
    case 'f32': {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, value as number, true);
      w.byte(0x43).raw(b);
      break;
    }
    case 'f64': {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value as number, true);
      w.byte(0x44).raw(b);
      break;
    }
  }
  return w.byte(0x0b).bytes();
}

/**
 * Runs of zeros shorter than this stay inside a segment: a new segment costs about 8
 * bytes of header (flags, i32.const offset, end, length), so a shorter gap is cheaper kept.
 */
export const MERGE_GAP = 8;
/**
 * At most this many segments (V8 allows 100,000; Wizer keeps 10,000): when there are
 * more, the smallest gaps are merged first. Measured on the guest it makes no difference
 * to instantiation time beside the bytes copied.
 */
export const MAX_SEGMENTS = 10_000;

/** The memory's non-zero bytes as segments: zero runs dropped, small gaps merged. Deterministic. */
export function memorySegments(memory: Uint8Array, options: { mergeGap?: number; maxSegments?: number } = {}): { offset: number; bytes: Uint8Array }[] {
  const mergeGap = options.mergeGap ?? MERGE_GAP;
  const maxSegments = options.maxSegments ?? MAX_SEGMENTS;
  // Runs [start, end) of non-zero bytes; zero words are skipped a word at a time.
  const n = memory.length;
  const words = memory.byteOffset % 4 === 0 ? new Uint32Array(memory.buffer, memory.byteOffset, n >>> 2) : undefined;
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  while (i < n) {
    if (words && (i & 3) === 0) {
      let w = i >>> 2;
      while (w < words.length && words[w] === 0) w++;
      if (w * 4 > i) {
        i = w * 4;
        continue;
      }
    }
    if (memory[i] === 0) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && memory[i] !== 0) i++;
    // A gap of at most mergeGap zeros joins this run to the one before.
    if (ends.length && start - ends[ends.length - 1]! <= mergeGap) ends[ends.length - 1] = i;
    else {
      starts.push(start);
      ends.push(i);
    }
  }
  // Too many: keep as splits only the largest gaps (ties: the earlier gap), merge the rest.
  let keepSplit: Set<number> | undefined;
  if (starts.length > maxSegments) {
    const gaps = starts.slice(1).map((s, k) => ({ k, gap: s - ends[k]! }));
    gaps.sort((a, b) => b.gap - a.gap || a.k - b.k);
    keepSplit = new Set(gaps.slice(0, maxSegments - 1).map((g) => g.k));
  }
  const out: { offset: number; bytes: Uint8Array }[] = [];
  let segStart = starts[0];
  for (let k = 0; k < starts.length; k++) {
    const last = k === starts.length - 1;
    if (last || !keepSplit || keepSplit.has(k)) {
      out.push({ offset: segStart!, bytes: memory.subarray(segStart!, ends[k]!) });
      if (!last) segStart = starts[k + 1];
    }
  }
  return out;
}

/**
 * The snapshot module: `wasm` (uninstrumented or instrumented) with its data segments
 * replaced by the captured memory (runs of zeros dropped, small gaps merged,
 * deterministic), memory minimum = captured pages, each captured global's init = its
 * value, and the exports in `removeExports` removed (e.g. the init entry).
 */
export function writeSnapshot(wasm: Uint8Array, state: Capture, globals: GlobalSlot[], options: { removeExports?: string[] } = {}): Uint8Array {
  let sections = readSections(wasm);
  if (findSection(sections, SectionId.start)) throw new WasmFormatError('the module has a start function, which would run again on every instance of the snapshot');
  if (state.memory.length % PAGE !== 0) throw new RangeError(`captured memory is ${state.memory.length} bytes, not whole 64 KiB pages`);
  if (state.globals.length !== globals.length) throw new RangeError(`${state.globals.length} values for ${globals.length} globals`);

  const imports = findSection(sections, SectionId.import);
  const importList = imports ? readImports(imports.payload) : [];
  if (importList.some((i) => i.kind === ExportKind.memory)) throw new WasmFormatError('the module imports its memory: only a module that defines it can be snapshotted');
  const importedGlobals = importList.filter((i) => i.kind === ExportKind.global).length;

  // Memory: one, defined here, its minimum now the captured size.
  const memSection = findSection(sections, SectionId.memory);
  const memories = memSection ? readMemories(memSection.payload) : [];
  if (memories.length !== 1) throw new WasmFormatError(`the module defines ${memories.length} memories; a snapshot needs exactly one`);
  const pages = state.memory.length / PAGE;
  const mem = memories[0]!;
  if (mem.flags & 2) throw new WasmFormatError('shared memory cannot be snapshotted');
  if (mem.max !== undefined && pages > mem.max) throw new RangeError(`captured ${pages} pages, over the memory's maximum of ${mem.max}`);
  if (pages < mem.min) throw new RangeError(`captured ${pages} pages, under the memory's minimum of ${mem.min}`);
  sections = setSection(sections, SectionId.memory, writeMemories([{ ...mem, min: pages }]));

  // Globals: each captured one starts at its value.
  if (globals.length) {
    const gs = findSection(sections, SectionId.global);
    const defined: Global[] = gs ? readGlobals(gs.payload) : [];
    globals.forEach((slot, k) => {
      const g = defined[slot.index - importedGlobals];
      if (!g || !g.mutable || TYPE_NAMES[g.type] !== slot.type) throw new WasmFormatError(`global ${slot.index} is not a mutable ${slot.type} defined by this module`);
      defined[slot.index - importedGlobals] = { ...g, init: constExpr(slot, state.globals[k]!) };
    });
    sections = setSection(sections, SectionId.global, writeGlobals(defined));
  }

  // Exports: the init entry (and whatever else was asked) goes.
  if (options.removeExports?.length) {
    const es = findSection(sections, SectionId.export);
    const exports = es ? readExports(es.payload) : [];
    for (const name of options.removeExports) if (!exports.some((e) => e.name === name)) throw new WasmFormatError(`the module has no export named ${JSON.stringify(name)} to remove`);
    const drop = new Set(options.removeExports);
    sections = setSection(sections, SectionId.export, writeExports(exports.filter((e) => !drop.has(e.name))));
  }

  // Data: the captured memory replaces every segment (they were all applied to it).
  const data = findSection(sections, SectionId.data);
  const old: DataSegment[] = data ? readData(data.payload) : [];
  if (old.some((s) => s.passive)) throw new WasmFormatError('the module has passive data segments (memory.init): not supported by the snapshot writer');
  const segments = memorySegments(state.memory);
  sections = setSection(sections, SectionId.data, writeActiveData(segments));
  if (findSection(sections, SectionId.dataCount)) sections = setSection(sections, SectionId.dataCount, writeU32(segments.length));
  return writeModule(sections);
}
