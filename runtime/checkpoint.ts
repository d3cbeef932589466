// A session as data: the checkpoint format. Between cells a session is its guest's linear
// memory, the guest's mutable globals and the runtime's WASI state (descriptor table,
// in-memory workspace, cwd); the Python heap, imports and pending asyncio tasks are all in
// the memory. A checkpoint stores only the 64 KiB pages that differ from the build's
// snapshot image, compressed, and is bound to that build by the SHA-256 of its guest.
//
//   "TICCKPT\0"  u16 version  u16 flags (1: signed)  32 bytes guest SHA-256
//   u32 body length, body = u32 n, then n chunks (u32 length, deflate-raw bytes) that
//   inflate, one after the other, to: u32 header length, header JSON, changed pages, blobs
//   a changed page: u32 k, a bitmap of its 16,384 32-bit words (512 u32), then the k words
//   whose bit is set, each the XOR of the session's word with the snapshot's
//   [32 bytes HMAC-SHA256 of everything before it, when signed]
//
// The chunks are compressed on libuv's thread pool while the session's thread still walks
// the pages after them: compression, most of a checkpoint's cost, runs beside the walk and
// on the other cores.
//
// Everything in a checkpoint is hostile input on restore: the signature is checked before
// anything is decompressed, and without a key every field is validated (bounds, types,
// sizes) before a byte reaches a guest.

import { promisify } from 'node:util';
import { builtin } from './builtins.js';
import { initialMemoryImage, readSections } from './snapshot/wasm-binary.js';

export const PAGE = 65536;
const MAGIC = Buffer.from('TICCKPT\0', 'latin1');
export const CHECKPOINT_VERSION = 3;
const FLAG_SIGNED = 1;
/** A restored guest may not claim more memory than wasm32 can have. */
const MAX_PAGES = 65536;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** What a session is between cells, as the worker captures it. */
export interface SessionState {
  /** Linear memory size, in pages. */
  pages: number;
  /** The guest's mutable globals (i64 values as decimal strings). */
  globals: (number | string)[];
  /** The runtime's WASI state (descriptor table, in-memory workspace, cwd): wasi/preview1.ts's own format. */
  wasi: unknown;
  /** Cells run so far, and anything else the runtime keeps beside the guest. */
  runtime: Record<string, unknown>;
}

// node:zlib and node:crypto load with the first checkpoint (runtime/builtins.ts), not with the module.
let zlibAsync: { deflate: (b: Buffer, o: import('node:zlib').ZlibOptions) => Promise<Buffer>; inflate: (b: Buffer, o: import('node:zlib').ZlibOptions) => Promise<Buffer> } | undefined;
const zlib = () => (zlibAsync ??= { deflate: promisify(builtin('node:zlib').deflateRaw), inflate: promisify(builtin('node:zlib').inflateRaw) });
const deflateChunk = (b: Buffer, o: import('node:zlib').ZlibOptions) => zlib().deflate(b, o);
const inflateChunk = (b: Buffer, o: import('node:zlib').ZlibOptions) => zlib().inflate(b, o);
/**
 * Inflated bytes per chunk (a chunk of pages may pass it by one page record): big enough
 * that a chunk is cheap to start, small enough to overlap the walk.
 */
const CHUNK = 512 * 1024;

/**
 * The checkpoint of `state` whose memory is `memory`, against the snapshot image `base`;
 * `blobs` are bytes the state refers to by offset (the in-memory workspace's files).
 * `memory` and `blobs` are read before the first await: the guest may run again as soon
 * as the returned promise is made.
 */
export async function encodeCheckpoint(state: SessionState, memory: Uint8Array, base: Uint8Array, blobs: Uint8Array[], guestSha256: string, key?: string): Promise<Uint8Array> {
  // Each page as the words that differ from the snapshot's, XOR-ed with them: most of a
  // changed page is still the snapshot's (a fifth of the words of a 10,000-row session
  // differ), so deflate reads a fifth of the bytes, and restore touches only those words.
  // A page with no such word is not stored; one walk finds and writes the others.
  const pages = memory.length / PAGE;
  const blobBytes = blobs.reduce((n, b) => n + b.length, 0);
  const records = Buffer.allocUnsafe(pages * RECORD_MAX + blobBytes); // the worst case, then cut
  const changed: number[] = [];
  const compress = (bytes: Buffer, into: Promise<Buffer>[]) => {
    for (let i = 0; i < bytes.length; i += CHUNK) into.push(deflateChunk(bytes.subarray(i, Math.min(bytes.length, i + CHUNK)), DEFLATE));
  };
  const chunks: Promise<Buffer>[] = [];
  let sent = 0; // records[0, sent) are compressing
  let at = 0;
  for (let p = 0; p < pages; p++) {
    const len = sparsePageInto(records, at, memory, base, p);
    if (len > RECORD_HEAD) {
      changed.push(p);
      at += len;
      if (at - sent >= CHUNK) {
        compress(records.subarray(sent, at), chunks);
        sent = at;
      }
    }
  }
  for (const b of blobs) {
    records.set(b, at);
    at += b.length;
  }
  compress(records.subarray(sent, at), chunks);
  // Padded so that the pages start 8-byte aligned in the inflated body (applyPage reads them in place).
  let header = Buffer.from(JSON.stringify({ ...state, changed, blobBytes }), 'utf8');
  if ((4 + header.length) % 8) header = Buffer.concat([header, Buffer.alloc(8 - ((4 + header.length) % 8), 0x20)]);
  const headerChunks: Promise<Buffer>[] = []; // first in the body, known only after the walk
  compress(Buffer.concat([u32(header.length), header]), headerChunks);
  const parts = await Promise.all([...headerChunks, ...chunks]);
  const bodyParts = [u32(parts.length)];
  for (const part of parts) bodyParts.push(u32(part.length), part);
  const body = Buffer.concat(bodyParts);
  const head = Buffer.concat([MAGIC, u16(CHECKPOINT_VERSION), u16(key ? FLAG_SIGNED : 0), Buffer.from(guestSha256, 'hex'), u32(body.length)]);
  const unsigned = Buffer.concat([head, body]);
  if (!key) return new Uint8Array(unsigned.buffer, unsigned.byteOffset, unsigned.length);
  const whole = Buffer.concat([unsigned, builtin('node:crypto').createHmac('sha256', key).update(unsigned).digest()]);
  return new Uint8Array(whole.buffer, whole.byteOffset, whole.length);
}

/** Level 1 (the fastest), and zlib's largest hash table: 15% faster than its default on checkpoint pages (9.6 -> 8.1 ms for 2 MB). */
const DEFLATE = { level: 1, memLevel: 9 };

/** The body's chunks, inflated (side by side on the thread pool) and joined; CheckpointError when they are not well formed. */
async function inflateBody(body: Buffer, maxBytes: number): Promise<Buffer> {
  if (body.length < 4) throw new CheckpointError('the checkpoint has no body');
  const n = body.readUInt32LE(0);
  const parts: Buffer[] = [];
  let at = 4;
  for (let i = 0; i < n; i++) {
    if (at + 4 > body.length) throw new CheckpointError(`the checkpoint's chunk ${i} of ${n} is cut short`);
    const len = body.readUInt32LE(at);
    if (at + 4 + len > body.length) throw new CheckpointError(`the checkpoint's chunk ${i} runs past its body`);
    parts.push(body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  if (at !== body.length) throw new CheckpointError('the checkpoint has bytes after its last chunk');
  // No chunk inflates past CHUNK_MAX, so n of them hold at most n * CHUNK_MAX bytes: bounded before any is inflated.
  if (n * CHUNK_MAX > maxBytes) throw new CheckpointError(`the checkpoint has ${n} chunks: more than ${Math.floor(maxBytes / CHUNK_MAX)} (${maxBytes} bytes)`);
  let out: Buffer[];
  try {
    out = await Promise.all(parts.map((part) => inflateChunk(part, { maxOutputLength: CHUNK_MAX })));
  } catch (err) {
    throw new CheckpointError(`the checkpoint's body cannot be read: ${(err as Error).message}`);
  }
  const total = out.reduce((sum, b) => sum + b.length, 0);
  return out.length === 1 ? out[0]! : Buffer.concat(out, total);
}

export interface DecodedCheckpoint {
  state: SessionState;
  /** Changed pages: index and their record (sparse XOR words, applyPage). */
  pages: { index: number; bytes: Uint8Array }[];
  /** The bytes the state refers to by offset (wasi.tree's files). */
  blobs: Uint8Array;
}

/**
 * Reads a checkpoint for the guest `guestSha256`: refused (CheckpointError naming what is
 * wrong) if it is not one, was made by another build, is unsigned or tampered with when a
 * key is given, or holds anything out of bounds. Nothing is decompressed before the
 * signature is checked.
 */
/** The fixed header only (format, version, build): cheap, for refusing early. */
export function checkCheckpointHeader(bytes: Uint8Array, guestSha256: string): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEAD_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new CheckpointError('not a tooliscode checkpoint');
  const version = buf.readUInt16LE(8);
  if (version !== CHECKPOINT_VERSION) throw new CheckpointError(`checkpoint format ${version}; this runtime reads format ${CHECKPOINT_VERSION}`);
  const guest = buf.subarray(12, 44).toString('hex');
  if (guest !== guestSha256) throw new CheckpointError(`the checkpoint was made by guest ${guest.slice(0, 12)}…, not this build's guest ${guestSha256.slice(0, 12)}… (restore it with the build that made it)`);
}

const HEAD_BYTES = MAGIC.length + 2 + 2 + 32 + 4;

export async function decodeCheckpoint(bytes: Uint8Array, guestSha256: string, key?: string, maxBytes = 1 << 30): Promise<DecodedCheckpoint> {
  checkCheckpointHeader(bytes, guestSha256);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = HEAD_BYTES;
  const flags = buf.readUInt16LE(10);
  const bodyLen = buf.readUInt32LE(44);
  const signed = (flags & FLAG_SIGNED) !== 0;
  if (buf.length !== headLen + bodyLen + (signed ? 32 : 0)) throw new CheckpointError('the checkpoint is truncated or has bytes after its end');
  if (key !== undefined) {
    if (!signed) throw new CheckpointError('the checkpoint is not signed, and a checkpoint key is set: refused');
    const expected = builtin('node:crypto').createHmac('sha256', key).update(buf.subarray(0, headLen + bodyLen)).digest();
    if (!builtin('node:crypto').timingSafeEqual(expected, buf.subarray(headLen + bodyLen))) throw new CheckpointError('the checkpoint was tampered with, or signed with another key: refused');
  }
  const raw = await inflateBody(buf.subarray(headLen, headLen + bodyLen), maxBytes);
  if (raw.length < 4) throw new CheckpointError('the checkpoint has no header');
  const hLen = raw.readUInt32LE(0);
  if (4 + hLen > raw.length) throw new CheckpointError('the checkpoint header runs past its body');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(raw.subarray(4, 4 + hLen).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new CheckpointError('the checkpoint header is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw new CheckpointError('the checkpoint header is not an object');
  const { pages, changed, globals } = header;
  if (!Number.isSafeInteger(pages) || (pages as number) < 1 || (pages as number) > MAX_PAGES) throw new CheckpointError(`checkpoint field pages: ${JSON.stringify(pages)} is not a page count`);
  if (!Array.isArray(changed) || changed.some((p, i) => !Number.isSafeInteger(p) || p < 0 || p >= (pages as number) || (i > 0 && p <= changed[i - 1]))) {
    throw new CheckpointError('checkpoint field changed: not an increasing list of pages inside the memory');
  }
  const { blobBytes } = header;
  if (!Number.isSafeInteger(blobBytes) || (blobBytes as number) < 0) throw new CheckpointError('checkpoint field blobBytes: not a byte count');
  // The page records, each checked: its word count, and that its bitmap names exactly that many words.
  const out: { index: number; bytes: Uint8Array }[] = [];
  let at = 4 + hLen;
  for (const index of changed as number[]) {
    if (at % 4 !== 0 || at + RECORD_HEAD > raw.length) throw new CheckpointError('the checkpoint\'s pages are cut short');
    const k = raw.readUInt32LE(at);
    const len = RECORD_HEAD + 4 * k;
    if (k > WORDS || at + len > raw.length) throw new CheckpointError(`page ${index} of the checkpoint claims ${k} words`);
    const record = new Uint8Array(raw.buffer, raw.byteOffset + at, len);
    if (bitsSet(record) !== k) throw new CheckpointError(`page ${index} of the checkpoint: its bitmap does not name its ${k} words`);
    out.push({ index, bytes: record });
    at += len;
  }
  if (raw.length !== at + (blobBytes as number)) throw new CheckpointError(`the checkpoint holds ${raw.length - at} bytes after its pages, not the ${blobBytes} bytes of files it says`);
  if (!Array.isArray(globals) || globals.some((g) => !(typeof g === 'number' && Number.isFinite(g)) && !(typeof g === 'string' && /^-?\d{1,20}$/.test(g)))) {
    throw new CheckpointError('checkpoint field globals: not a list of numbers');
  }
  if (typeof header.runtime !== 'object' || header.runtime === null || Array.isArray(header.runtime)) throw new CheckpointError('checkpoint field runtime: not an object');
  const state: SessionState = { pages: pages as number, globals: globals as (number | string)[], wasi: header.wasi, runtime: header.runtime as Record<string, unknown> };
  return { state, pages: out, blobs: new Uint8Array(raw.buffer, raw.byteOffset + at, blobBytes as number) };
}

const WORDS = PAGE / 4;
/** A page record's fixed part: the word count and the bitmap. */
const RECORD_HEAD = 4 + WORDS / 8;
const RECORD_MAX = RECORD_HEAD + PAGE;
const CHUNK_MAX = CHUNK + RECORD_MAX;
/** Bytes compared at once before a block's words are walked. */
const BLOCK = 512;

/** Writes page `p`'s record into `out` at `at` (4-byte aligned): the words that differ from `base`'s, XOR-ed. Returns its length. */
function sparsePageInto(out: Buffer, at: number, memory: Uint8Array, base: Uint8Array, p: number): number {
  const m = new Uint32Array(memory.buffer, memory.byteOffset + p * PAGE, WORDS);
  const rec = new Uint32Array(out.buffer, out.byteOffset + at, RECORD_MAX / 4);
  const bitmap = rec.subarray(1, 1 + WORDS / 32);
  const values = rec.subarray(1 + WORDS / 32);
  const whole = (p + 1) * PAGE <= base.length && base.byteOffset % 4 === 0;
  const b = whole ? new Uint32Array(base.buffer, base.byteOffset + p * PAGE, WORDS) : baseWords(base, p);
  // Pages and blocks the same as the snapshot's are skipped by a native compare; only the others are walked.
  const mb = Buffer.from(m.buffer, m.byteOffset, PAGE);
  const bb = Buffer.from(b.buffer, b.byteOffset, PAGE);
  rec[0] = 0;
  if (mb.equals(bb)) return RECORD_HEAD;
  bitmap.fill(0);
  let k = 0;
  for (let start = 0; start < PAGE; start += BLOCK) {
    if (mb.compare(bb, start, start + BLOCK, start, start + BLOCK) === 0) continue;
    for (let w = start >>> 2, end = (start + BLOCK) >>> 2; w < end; w++) {
      const x = m[w]! ^ b[w]!;
      if (x !== 0) {
        bitmap[w >>> 5]! |= 1 << (w & 31);
        values[k++] = x;
      }
    }
  }
  rec[0] = k;
  return RECORD_HEAD + 4 * k;
}

/** Page `p` of `base` as words, zeros past its end. */
function baseWords(base: Uint8Array, p: number): Uint32Array {
  const page = new Uint8Array(PAGE);
  if (p * PAGE < base.length) page.set(base.subarray(p * PAGE, Math.min(base.length, (p + 1) * PAGE)));
  return new Uint32Array(page.buffer);
}

/** Bits set in a record's bitmap. */
function bitsSet(record: Uint8Array): number {
  const bitmap = record.byteOffset % 4 === 0 ? new Uint32Array(record.buffer, record.byteOffset + 4, WORDS / 32) : new Uint32Array(record.slice(4, RECORD_HEAD).buffer);
  let n = 0;
  for (let i = 0; i < bitmap.length; i++) {
    let v = bitmap[i]!;
    v -= (v >>> 1) & 0x55555555;
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
  }
  return n;
}

/** Applies a page record to memory that holds the snapshot's (a fresh instance): XOR the words it names. */
export function applyPage(memory: Uint8Array, index: number, record: Uint8Array): void {
  const m = new Uint32Array(memory.buffer, memory.byteOffset + index * PAGE, WORDS);
  const r = record.byteOffset % 4 === 0 ? record : record.slice();
  const rec = new Uint32Array(r.buffer, r.byteOffset, r.length / 4);
  let j = 1 + WORDS / 32;
  for (let i = 0; i < WORDS / 32; i++) {
    let bits = rec[1 + i]!;
    while (bits !== 0) {
      const low = bits & -bits;
      const w = (i << 5) + 31 - Math.clz32(low);
      m[w]! ^= rec[j++]!;
      bits ^= low;
    }
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/**
 * The memory a fresh instance of `wasm` starts with: its minimum size, with its active data
 * segments applied (what instantiation does, without running anything). A checkpoint
 * stores only the pages that differ from it.
 */
export function initialMemory(wasm: Uint8Array): Uint8Array {
  const memory = initialMemoryImage(readSections(wasm));
  if (!memory) throw new CheckpointError("the guest's initial memory cannot be read off its bytes (one defined memory, data at i32.const offsets)");
  return memory;
}
