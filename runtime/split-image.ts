// A snapshot as two files, derived once from guest.wasm and cached: the module without its
// data section (4.7 of 15.3 MB) and the memory a fresh instance starts with, raw (11.9 MB).
//
// Compiled whole, the 10.4 MB of data segments are read into a buffer, copied by V8 with
// the module's wire bytes, and copied again into the instance's memory. Split, V8 compiles
// a third of the bytes and the memory image is read straight into the instance's memory
// (one read from the page cache), before any guest code runs: exactly the state the data
// segments would have made. `tic run`: compiled 22.9 -> 9.2 ms, instantiated (with the
// read) 9.9 -> 9.1 ms, medians of 14 interleaved runs.
//
// The cache entry is named after the file's identity (device, inode, size, mtime), so a
// rewritten guest.wasm gets a new entry. Only the plain case is split: one memory defined
// by the module, active segments in it at `i32.const` offsets, and no datacount section
// (so no memory.init or data.drop can name a segment). Anything else is compiled whole.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExportKind, SectionId, findSection, readData, readImports, readMemories, readSections, writeModule } from './snapshot/wasm-binary.js';

const PAGE = 65536;
/** Bumped when the files' format changes. */
const FORMAT = 'split1';

export interface SplitGuest {
  /** The module without its data section. */
  codePath: string;
  /** The initial memory, every byte of it (the module's minimum size). */
  memoryPath: string;
}

/**
 * The split files of `wasmPath` under `cacheDir`, made now if missing; undefined when the
 * module is not the plain case or the cache cannot be written (then compile it whole).
 */
export function splitGuest(wasmPath: string, cacheDir: string): SplitGuest | undefined {
  const st = statSync(wasmPath);
  const dir = join(cacheDir, 'split', `${FORMAT}-${st.dev}-${st.ino}-${st.size}-${Math.round(st.mtimeMs * 1000)}`);
  const out = { codePath: join(dir, 'code.wasm'), memoryPath: join(dir, 'memory.bin') };
  if (existsSync(out.codePath) && existsSync(out.memoryPath)) return out;
  const parts = splitModule(readFileSync(wasmPath));
  if (!parts) return undefined;
  try {
    mkdirSync(dir, { recursive: true });
    // Each file appears whole or not at all (another process may be making the same entry).
    const tmp = `.${process.pid}-${Date.now()}.tmp`;
    writeFileSync(out.memoryPath + tmp, parts.memory);
    renameSync(out.memoryPath + tmp, out.memoryPath);
    writeFileSync(out.codePath + tmp, parts.code);
    renameSync(out.codePath + tmp, out.codePath);
  } catch {
    return undefined;
  }
  return out;
}

/** The module without its data section and its initial memory; undefined unless the plain case. */
export function splitModule(wasm: Uint8Array): { code: Uint8Array; memory: Uint8Array } | undefined {
  const sections = readSections(wasm);
  if (findSection(sections, SectionId.dataCount) || findSection(sections, SectionId.start)) return undefined;
  const imports = findSection(sections, SectionId.import);
  if (imports && readImports(imports.payload).some((i) => i.kind === ExportKind.memory)) return undefined;
  const memories = findSection(sections, SectionId.memory);
  const limits = memories ? readMemories(memories.payload) : [];
  if (limits.length !== 1) return undefined;
  const memory = new Uint8Array(limits[0]!.min * PAGE);
  const data = findSection(sections, SectionId.data);
  for (const seg of data ? readData(data.payload) : []) {
    // `i32.const N; end`: the only offset expression the guests tic builds have.
    if (seg.passive || seg.memory !== 0 || !seg.offset || seg.offset[0] !== 0x41 || seg.offset[seg.offset.length - 1] !== 0x0b) return undefined;
    const offset = readSleb32(seg.offset, 1) >>> 0;
    if (offset + seg.bytes.length > memory.length) return undefined;
    memory.set(seg.bytes, offset);
  }
  return { code: writeModule(sections.filter((s) => s.id !== SectionId.data)), memory };
}

function readSleb32(bytes: Uint8Array, at: number): number {
  let result = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[at++]!;
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80 && shift < 35);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return result;
}

/** Reads the memory image into a fresh instance's memory, which must be exactly its size. */
export function loadMemoryImage(memory: WebAssembly.Memory, path: string): void {
  const view = new Uint8Array(memory.buffer);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size !== view.length) throw new Error(`the memory image ${path} has ${size} bytes, the guest's memory ${view.length}`);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, view, at, size - at, at);
      if (n === 0) throw new Error(`the memory image ${path} ended early`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}
