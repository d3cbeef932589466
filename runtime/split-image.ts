// A snapshot as two files, derived once from guest.wasm and cached: the module without its
// data section (4.7 of 15.3 MB) and the memory a fresh instance starts with, raw (and which
// of its pages are not zero: only those are read).
//
// Compiled whole, the 10.4 MB of data segments are read into a buffer, copied by V8 with
// the module's wire bytes, and copied again into the instance's memory. Split, V8 compiles
// a third of the bytes and the memory image is read straight into the instance's memory
// (one read from the page cache), before any guest code runs: exactly the state the data
// segments would have made. `tic run`: compiled 22.9 -> 9.2 ms, instantiated (with the
// read) 9.9 -> 9.1 ms, medians of 14 interleaved runs.
//
// A session that parks between cells (session.ts) needs a third form, also cached: the
// module without data whose memory is imported and shared, the memory image, and which of
// its pages are non-zero (loadParkable).
//
// The cache keeps one entry per guest.wasm path and form, named after the file's identity
// (device, inode, size, mtime): a rewritten guest.wasm gets a new entry, which replaces the
// old. Only the plain case is split: one memory defined by the module, active segments in
// it at `i32.const` offsets, and no datacount section (so no memory.init or data.drop can
// name a segment). Anything else is compiled whole.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { touchCacheEntry } from './cache-dir.js';
import { type GlobalSlot, instrumentGlobals } from './snapshot/capture.js';
import type { ParkingSetup } from './session-protocol.js';
import { Reader, type Section, SectionId, Writer, findSection, initialMemoryImage, readMemories, readSections, setSection, writeModule } from './snapshot/wasm-binary.js';

/** Bumped when the files' format changes. */
const FORMAT = 'split2';

export interface SplitGuest {
  /** The module without its data section. */
  codePath: string;
  /** The initial memory, every byte of it (the module's minimum size). */
  memoryPath: string;
  /** Its runs of non-zero pages (nonZeroRuns): only these are read, a fresh memory is zero. */
  runs: number[];
}

/**
 * The split files of `wasmPath` under `cacheDir`, made now if missing; undefined when the
 * module is not the plain case or the cache cannot be written (then compile it whole).
 */
export function splitGuest(wasmPath: string, cacheDir: string): SplitGuest | undefined {
  const dir = cachedEntry(wasmPath, cacheDir, FORMAT, ['code.wasm', 'memory.bin', 'runs.json'], (wasm) => {
    const parts = splitModule(wasm);
    return parts && { 'code.wasm': parts.code, 'memory.bin': parts.memory, 'runs.json': new TextEncoder().encode(JSON.stringify(nonZeroRuns(parts.memory))) };
  });
  if (dir === undefined) return undefined;
  const runs = JSON.parse(readFileSync(join(dir, 'runs.json'), 'utf8')) as number[];
  return { codePath: join(dir, 'code.wasm'), memoryPath: join(dir, 'memory.bin'), runs };
}

/**
 * The files of one derivation of `wasmPath` (`format`) in their cache entry, made by
 * `make` if missing: the entry's folder, or undefined when `make` declines or the cache
 * cannot be written. Entries are named after the file's identity (device, inode, size,
 * mtime): a rewritten file gets a new entry, which replaces the old.
 */
function cachedEntry(wasmPath: string, cacheDir: string, format: string, names: string[], make: (wasm: Uint8Array) => Record<string, Uint8Array> | undefined): string | undefined {
  const st = statSync(wasmPath);
  const parent = join(cacheDir, 'split', `${format}-${fnv1a(resolve(wasmPath))}`);
  const identity = `${st.dev}-${st.ino}-${st.size}-${Math.round(st.mtimeMs * 1000)}`;
  const dir = join(parent, identity);
  if (names.every((n) => existsSync(join(dir, n)))) {
    touchCacheEntry(parent); // the entry pruning counts (cache-dir.ts) is the parent
    return dir;
  }
  const files = make(readFileSync(wasmPath));
  if (!files) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(parent, 'source'), resolve(wasmPath));
    // Each file appears whole or not at all (another process may be making the same entry).
    const tmp = `.${process.pid}-${Date.now()}.tmp`;
    for (const n of names) {
      writeFileSync(join(dir, n) + tmp, files[n]!);
      renameSync(join(dir, n) + tmp, join(dir, n));
    }
  } catch {
    return undefined;
  }
  // The entries of earlier versions of this file go (a process that found one a moment ago
  // and has yet to read it fails to start rather than run the wrong memory).
  for (const old of readdirSync(parent)) if (old !== identity && old !== 'source') rmSync(join(parent, old), { recursive: true, force: true });
  pruneOrphans(join(cacheDir, 'split'));
  return dir;
}

/** Drops the entries of guest files that are gone (builds into temporary folders, say): each costs its memory image. */
function pruneOrphans(root: string): void {
  for (const name of readdirSync(root)) {
    try {
      const source = readFileSync(join(root, name, 'source'), 'utf8');
      if (!existsSync(source)) rmSync(join(root, name), { recursive: true, force: true });
    } catch {
      /* an entry from before `source` was written, or one being made: left */
    }
  }
}

/** A short name for a path (FNV-1a, 32 bits): two paths that share one only evict each other's entry. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The module's sections and initial memory, if it is the plain case (see the top of this file). */
function plainCase(wasm: Uint8Array): { sections: Section[]; image: Uint8Array } | undefined {
  const sections = readSections(wasm);
  if (findSection(sections, SectionId.dataCount) || findSection(sections, SectionId.start)) return undefined;
  const image = initialMemoryImage(sections);
  return image && { sections, image };
}

/** The module without its data section and its initial memory; undefined unless the plain case. */
export function splitModule(wasm: Uint8Array): { code: Uint8Array; memory: Uint8Array } | undefined {
  const plain = plainCase(wasm);
  return plain && { code: writeModule(plain.sections.filter((s) => s.id !== SectionId.data)), memory: plain.image };
}

/**
 * Reads the memory image into a fresh instance's memory, which must be exactly its size:
 * with `runs`, only those pages (the rest is zero already: the C stack's 4 MiB, mostly).
 */
export function loadMemoryImage(memory: WebAssembly.Memory, path: string, runs?: number[]): void {
  readInto(path, new Uint8Array(memory.buffer), runs);
}

/** Largest memory a parked session's guest may grow to, in 64 KiB pages (4 GiB, wasm32's all). */
const SHARED_MAX_PAGES = 65536;

export interface ParkableGuest {
  /** The module without data, importing its memory (`env.memory`, shared). */
  code: Uint8Array;
  /** What a fresh instance's memory starts as: its data segments laid out. */
  image: Uint8Array;
  /** The memory's size at start and its maximum, in 64 KiB pages. */
  pages: { initial: number; maximum: number };
}

/**
 * The module as a session that can be parked needs it (session.ts): its memory imported
 * and shared, so that the memory is an object the main thread holds and any worker can
 * instantiate the module on (0.4 ms, measured), instead of a part of one instance that
 * lives and dies with one thread. Undefined unless the plain case (splitModule).
 */
export function parkableModule(wasm: Uint8Array): ParkableGuest | undefined {
  const plain = plainCase(wasm);
  if (!plain) return undefined;
  const { sections, image } = plain;
  const memorySection = findSection(sections, SectionId.memory);
  const importSection = findSection(sections, SectionId.import);
  if (!memorySection || !importSection) return undefined;
  const memories = readMemories(memorySection.payload);
  if (memories.length !== 1) return undefined;
  const initial = memories[0]!.min;
  const maximum = Math.min(memories[0]!.max ?? SHARED_MAX_PAGES, SHARED_MAX_PAGES);
  // The import goes last: imported memories come before defined ones, and with the one
  // defined memory gone it is memory 0, which every instruction and the export name.
  const r = new Reader(importSection.payload);
  const n = r.u32();
  const w = new Writer().u32(n + 1).raw(importSection.payload.subarray(r.pos));
  w.name('env').name('memory').byte(2).byte(3).u32(initial).u32(maximum); // kind memory, flags: max + shared
  const rewritten = setSection(sections, SectionId.import, w.bytes()).filter((s) => s.id !== SectionId.memory && s.id !== SectionId.data);
  return { code: writeModule(rewritten), image, pages: { initial, maximum } };
}

/** The page size of `nonZeroRuns` (the OS's: a page never written is never resident). */
export const IMAGE_PAGE = 4096;

/** The image's runs of non-zero IMAGE_PAGE pages, as [first, end) page pairs. */
export function nonZeroRuns(image: Uint8Array): number[] {
  const runs: number[] = [];
  const pages = Math.ceil(image.length / IMAGE_PAGE);
  // By 32-bit words where aligned (an image of whole wasm pages is), else by bytes.
  const words = image.byteOffset % 4 === 0 && image.length % 4 === 0 ? new Int32Array(image.buffer, image.byteOffset, image.length / 4) : undefined;
  const zero = (p: number): boolean => {
    if (words) {
      for (let i = (p * IMAGE_PAGE) / 4, end = Math.min(words.length, ((p + 1) * IMAGE_PAGE) / 4); i < end; i++) if (words[i] !== 0) return false;
      return true;
    }
    for (let i = p * IMAGE_PAGE, end = Math.min(image.length, i + IMAGE_PAGE); i < end; i++) if (image[i] !== 0) return false;
    return true;
  };
  for (let p = 0; p < pages; p++) {
    if (zero(p)) continue;
    if (runs.length && runs[runs.length - 1] === p) runs[runs.length - 1] = p + 1;
    else runs.push(p, p + 1);
  }
  return runs;
}

/** A parkable guest as loadGuest uses it: the module to compile, the memory every session starts from, and how to read both. */
export interface LoadedParkable {
  code: Uint8Array;
  /** Mutable globals exported by instrumentGlobals: what a checkpoint and a park read. */
  globals: GlobalSlot[];
  parking: ParkingSetup;
}

const PARK_FORMAT = 'park1';

/**
 * `wasmPath` made parkable (its globals exported, its memory imported and shared), from
 * the cache under `cacheDir` when there (made there otherwise: read, parsed and scanned
 * once per guest file, not on every loadGuest); undefined when the module is not the
 * plain case. Without a cache folder, or one that cannot be written, it is made in memory.
 */
export function loadParkable(wasmPath: string, cacheDir: string | undefined): LoadedParkable | undefined {
  const make = (wasm: Uint8Array): Record<string, Uint8Array> | undefined => {
    const { wasm: instrumented, globals } = instrumentGlobals(wasm);
    const p = parkableModule(instrumented);
    if (!p) return undefined;
    const meta = { globals, runs: nonZeroRuns(p.image), pages: p.pages };
    return { 'code.wasm': p.code, 'memory.bin': p.image, 'meta.json': new TextEncoder().encode(JSON.stringify(meta)) };
  };
  let files: Record<string, Uint8Array> | undefined;
  let dir: string | undefined;
  try {
    dir = cacheDir === undefined ? undefined : cachedEntry(wasmPath, cacheDir, PARK_FORMAT, ['code.wasm', 'memory.bin', 'meta.json'], make);
  } catch {
    dir = undefined;
  }
  if (!dir) {
    files = make(readFileSync(wasmPath));
    if (!files) return undefined;
  }
  const read = (n: string) => files?.[n] ?? readFileSync(join(dir!, n));
  const meta = JSON.parse(new TextDecoder().decode(read('meta.json'))) as { globals: GlobalSlot[]; runs: number[]; pages: ParkingSetup['pages'] };
  // The memory image goes straight into memory every worker reads without a copy; only its
  // non-zero pages (a fresh buffer is zero, and its untouched pages take no memory).
  const image = new SharedArrayBuffer(meta.pages.initial * 65536);
  const view = new Uint8Array(image);
  if (files) view.set(files['memory.bin']!);
  else readInto(join(dir!, 'memory.bin'), view, meta.runs);
  return { code: read('code.wasm'), globals: meta.globals, parking: { image, runs: meta.runs, pages: meta.pages } };
}

/**
 * Reads the file at `path`, which must be exactly `view`'s size, into `view`: all of it,
 * or only the pages of `runs` ([first, end) IMAGE_PAGE pairs; `view` is zero elsewhere).
 */
function readInto(path: string, view: Uint8Array, runs?: number[]): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== view.length) throw new Error(`the memory image ${path} has ${size} bytes, the guest's memory ${view.length}`);
    const ranges = runs ?? [0, Math.ceil(size / IMAGE_PAGE)];
    for (let i = 0; i < ranges.length; i += 2) {
      const end = Math.min(size, ranges[i + 1]! * IMAGE_PAGE);
      for (let at = ranges[i]! * IMAGE_PAGE; at < end; ) {
        const n = readSync(fd, view, at, end - at, at);
        if (n === 0) throw new Error(`the memory image ${path} ended early`);
        at += n;
      }
    }
  } finally {
    closeSync(fd);
  }
}
