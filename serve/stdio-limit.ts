// Over stdio the MCP SDK reads one JSON-RPC message per line into a buffer it caps at
// 10 MiB; a longer line makes it throw, and the client never hears back about that
// request. This filter sits between stdin and the SDK: lines up to `maxBytes` pass whole,
// a longer one is dropped as it streams (never held) and reported with the id it
// carried, so the server can answer it with an error and go on with the next line.

import { PassThrough, type Readable } from 'node:stream';

/** Bytes of one message over stdio that `tic serve` accepts (the SDK's own cap is 10 MiB). */
export const MAX_STDIO_MESSAGE_BYTES = 8 << 20;

/**
 * The JSON-RPC id of a message too long to parse, from its first and last bytes (clients
 * put `"id"` first or last): `"id": 5` or `"id": "a"`; undefined if neither shows one.
 */
export function messageId(head: string, tail: string): string | number | undefined {
  const pattern = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,15})\s*[,}]/g;
  const found = [...head.matchAll(pattern)][0] ?? [...tail.matchAll(pattern)].at(-1);
  if (!found) return undefined;
  try {
    return JSON.parse(found[1]!) as string | number;
  } catch {
    return undefined;
  }
}

export function boundedLines(input: Readable, maxBytes: number, onOversize: (id: string | number | undefined, bytes: number) => void): Readable {
  const out = new PassThrough();
  let held: Buffer[] = [];
  let heldBytes = 0;
  let skipping = false;
  let head = '';
  let tail = Buffer.alloc(0);
  let skipped = 0;
  input.on('data', (chunk: Buffer) => {
    for (let start = 0; start < chunk.length; ) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      const piece = chunk.subarray(start, end);
      start = end;
      if (!skipping && heldBytes + piece.length - (nl === -1 ? 0 : 1) > maxBytes) {
        // Too long: drop what was held of it, and the rest as it comes.
        head = Buffer.concat(held).subarray(0, 512).toString('utf8');
        if (head.length < 512) head += piece.subarray(0, 512).toString('utf8');
        skipped = heldBytes;
        held = [];
        heldBytes = 0;
        skipping = true;
      }
      if (skipping) {
        skipped += piece.length;
        tail = Buffer.concat([tail, piece.subarray(-512)]).subarray(-512);
        if (nl !== -1) {
          skipping = false;
          onOversize(messageId(head, tail.toString('utf8')), skipped);
          tail = Buffer.alloc(0);
        }
        continue;
      }
      held.push(piece);
      heldBytes += piece.length;
      if (nl !== -1) {
        out.write(held.length === 1 ? held[0] : Buffer.concat(held));
        held = [];
        heldBytes = 0;
      }
    }
  });
  input.on('end', () => out.end());
  input.on('error', (err) => out.destroy(err));
  return out;
}
