// A small reader and writer for the parts of a WebAssembly binary a snapshot touches:
// LEB128, the section list, and the import, global, export, memory, data and datacount
// sections. Every other section (types, code, custom sections such as `name`) is copied
// through byte for byte.
//
// Why hand-written and not binaryen (npm `binaryen`, ~12 MB of asm.js/wasm) or jco's
// wasm-tools bindings (~10 MB, a component runtime to load): a snapshot rewrites four
// small sections and appends one data section; the 4.5 MB code section is never decoded.
// A full parse/re-encode by either library costs seconds and hundreds of MB on the guest
// (and binaryen re-encodes the code, so the output would depend on its version), where
// this takes tens of milliseconds, has no dependency, runs wherever Node runs, and its
// output depends only on this file.

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

/** Where each known section goes (the binary format's required order); custom sections go anywhere. */
const ORDER: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

export class WasmFormatError extends Error {}

export interface Section {
  id: number;
  /** The section's contents (without id and size). */
  payload: Uint8Array;
}

/** A cursor over bytes, with the LEB128 reads the format uses. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of data at ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) break;
      shift += 7;
      if (shift > 28) throw new WasmFormatError(`LEB128 too long at ${this.pos}`);
    }
    if (result > 0xffff_ffff) throw new WasmFormatError(`u32 out of range at ${this.pos}`);
    return result;
  }

  /** A signed LEB128 of up to `bits` bits, as a bigint. */
  signed(bits: 32 | 64): bigint {
    let result = 0n;
    let shift = 0n;
    let b: number;
    do {
      b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (shift > BigInt(bits) + 7n) throw new WasmFormatError(`LEB128 too long at ${this.pos}`);
    } while (b & 0x80);
    if (b & 0x40) result -= 1n << shift;
    return BigInt.asIntN(bits, result);
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.end) throw new WasmFormatError(`unexpected end of data at ${this.pos}`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  name(): string {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.u32()));
  }

  /** Skips a constant expression up to and including its `end`; returns its bytes. */
  constExpr(): Uint8Array {
    const start = this.pos;
    for (;;) {
      const op = this.byte();
      switch (op) {
        case 0x0b:
          return this.bytes.subarray(start, this.pos);
        case 0x41:
          this.signed(32);
          break;
        case 0x42:
          this.signed(64);
          break;
        case 0x43:
          this.take(4);
          break;
        case 0x44:
          this.take(8);
          break;
        case 0x23: // global.get
        case 0xd2: // ref.func
          this.u32();
          break;
        case 0xd0: // ref.null t
          this.byte();
          break;
        case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: // extended-const arithmetic
          break;
        case 0xfd: // v128.const
          if (this.u32() !== 12) throw new WasmFormatError(`unsupported SIMD op in a constant expression at ${this.pos}`);
          this.take(16);
          break;
        default:
          throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} in a constant expression at ${this.pos - 1}`);
      }
    }
  }
}

/** Grows as bytes are appended; `bytes()` joins them once. */
export class Writer {
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];
  length = 0;

  private flush(): void {
    if (this.pending.length) {
      this.chunks.push(Uint8Array.from(this.pending));
      this.pending = [];
    }
  }

  byte(b: number): this {
    this.pending.push(b & 0xff);
    this.length++;
    return this;
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`u32 out of range: ${n}`);
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      this.byte(b);
    } while (n);
    return this;
  }

  signed(value: bigint): this {
    let v = value;
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      const done = (v === 0n && !(b & 0x40)) || (v === -1n && b & 0x40);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  raw(bytes: Uint8Array): this {
    if (bytes.length < 64) {
      for (const b of bytes) this.pending.push(b);
    } else {
      this.flush();
      this.chunks.push(bytes);
    }
    this.length += bytes.length;
    return this;
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).raw(b);
  }

  bytes(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** The module's sections in order (payloads are views into `wasm`). */
export function readSections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || MAGIC.some((b, i) => wasm[i] !== b)) throw new WasmFormatError('not a WebAssembly module (bad magic or version)');
  const r = new Reader(wasm, 8);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, payload: r.take(size) });
  }
  return sections;
}

export function writeModule(sections: Section[]): Uint8Array {
  const w = new Writer().raw(Uint8Array.from(MAGIC));
  for (const s of sections) w.byte(s.id).u32(s.payload.length).raw(s.payload);
  return w.bytes();
}

/** Replaces the section `id` (or inserts it where the format wants it). */
export function setSection(sections: Section[], id: number, payload: Uint8Array): Section[] {
  const out = sections.slice();
  const at = out.findIndex((s) => s.id === id);
  if (at >= 0) {
    out[at] = { id, payload };
    return out;
  }
  const rank = ORDER[id]!;
  let insert = 0;
  out.forEach((s, i) => {
    if (s.id !== SectionId.custom && ORDER[s.id]! < rank) insert = i + 1;
  });
  out.splice(insert, 0, { id, payload });
  return out;
}

export function findSection(sections: Section[], id: number): Section | undefined {
  return sections.find((s) => s.id === id);
}

// ---- the sections a snapshot reads and writes ----

export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b, funcref: 0x70, externref: 0x6f } as const;

export interface Limits {
  min: number;
  max?: number;
  flags: number;
}

function readLimits(r: Reader): Limits {
  const flags = r.byte();
  if (flags > 3) throw new WasmFormatError(`unsupported limits flags 0x${flags.toString(16)} (memory64?)`);
  const min = r.u32();
  return flags & 1 ? { flags, min, max: r.u32() } : { flags, min };
}

function writeLimits(w: Writer, l: Limits): void {
  w.byte(l.flags).u32(l.min);
  if (l.flags & 1) w.u32(l.max!);
}

export interface Import {
  module: string;
  name: string;
  kind: number;
  /** For a global: its type and mutability. */
  global?: { type: number; mutable: boolean };
  memory?: Limits;
}

export function readImports(payload: Uint8Array): Import[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Import[] = [];
  for (let i = 0; i < n; i++) {
    const module = r.name();
    const name = r.name();
    const kind = r.byte();
    const imp: Import = { module, name, kind };
    switch (kind) {
      case 0: // function
        r.u32();
        break;
      case 1: // table
        r.byte();
        readLimits(r);
        break;
      case 2:
        imp.memory = readLimits(r);
        break;
      case 3:
        imp.global = { type: r.byte(), mutable: r.byte() === 1 };
        break;
      case 4: // tag
        r.byte();
        r.u32();
        break;
      default:
        throw new WasmFormatError(`unknown import kind ${kind}`);
    }
    out.push(imp);
  }
  return out;
}

export interface Global {
  type: number;
  mutable: boolean;
  /** The init expression, with its `end`. */
  init: Uint8Array;
}

export function readGlobals(payload: Uint8Array): Global[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Global[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.byte();
    const mutable = r.byte() === 1;
    out.push({ type, mutable, init: r.constExpr() });
  }
  return out;
}

export function writeGlobals(globals: Global[]): Uint8Array {
  const w = new Writer().u32(globals.length);
  for (const g of globals) w.byte(g.type).byte(g.mutable ? 1 : 0).raw(g.init);
  return w.bytes();
}

export const ExportKind = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export interface Export {
  name: string;
  kind: number;
  index: number;
}

export function readExports(payload: Uint8Array): Export[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Export[] = [];
  for (let i = 0; i < n; i++) out.push({ name: r.name(), kind: r.byte(), index: r.u32() });
  return out;
}

export function writeExports(exports: Export[]): Uint8Array {
  const w = new Writer().u32(exports.length);
  for (const e of exports) w.name(e.name).byte(e.kind).u32(e.index);
  return w.bytes();
}

export function readMemories(payload: Uint8Array): Limits[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: Limits[] = [];
  for (let i = 0; i < n; i++) out.push(readLimits(r));
  return out;
}

export function writeMemories(memories: Limits[]): Uint8Array {
  const w = new Writer().u32(memories.length);
  for (const m of memories) writeLimits(w, m);
  return w.bytes();
}

export interface DataSegment {
  /** Active segments: the memory and the offset expression; passive ones have neither. */
  passive: boolean;
  memory: number;
  offset?: Uint8Array;
  bytes: Uint8Array;
}

export function readData(payload: Uint8Array): DataSegment[] {
  const r = new Reader(payload);
  const n = r.u32();
  const out: DataSegment[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags === 1) {
      out.push({ passive: true, memory: 0, bytes: r.take(r.u32()) });
      continue;
    }
    if (flags !== 0 && flags !== 2) throw new WasmFormatError(`unknown data segment flags ${flags}`);
    const memory = flags === 2 ? r.u32() : 0;
    const offset = r.constExpr();
    out.push({ passive: false, memory, offset, bytes: r.take(r.u32()) });
  }
  return out;
}

/**
 * The memory a fresh instance of the module starts with, read off its bytes without running
 * it: its one defined memory at the minimum size, with the active data segments applied.
 * Undefined when the bytes alone cannot tell: an imported memory or not exactly one, a
 * segment in another memory, at an offset other than `i32.const N`, or out of bounds.
 */
export function initialMemoryImage(sections: Section[]): Uint8Array | undefined {
  const imports = findSection(sections, SectionId.import);
  if (imports && readImports(imports.payload).some((i) => i.kind === ExportKind.memory)) return undefined;
  const memories = findSection(sections, SectionId.memory);
  const limits = memories ? readMemories(memories.payload) : [];
  if (limits.length !== 1) return undefined;
  const memory = new Uint8Array(limits[0]!.min * 65536); // 64 KiB pages
  const data = findSection(sections, SectionId.data);
  for (const seg of data ? readData(data.payload) : []) {
    if (seg.passive) continue;
    if (seg.memory !== 0 || !seg.offset) return undefined;
    const r = new Reader(seg.offset);
    if (r.byte() !== 0x41) return undefined;
    const offset = Number(r.signed(32)) >>> 0;
    if (r.byte() !== 0x0b || offset + seg.bytes.length > memory.length) return undefined;
    memory.set(seg.bytes, offset);
  }
  return memory;
}

/** Active segments in memory 0, each at an i32.const offset. */
export function writeActiveData(segments: { offset: number; bytes: Uint8Array }[]): Uint8Array {
  const w = new Writer().u32(segments.length);
  for (const s of segments) {
    w.byte(0).byte(0x41).signed(BigInt(s.offset | 0)).byte(0x0b);
    w.u32(s.bytes.length).raw(s.bytes);
  }
  return w.bytes();
}

export function writeU32(n: number): Uint8Array {
  return new Writer().u32(n).bytes();
}
