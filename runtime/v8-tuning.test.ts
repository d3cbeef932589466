// V8's settings for the guest are process-wide: what loadGuest sets must not change how the
// host's own WebAssembly behaves. Libraries probe the engine by compiling small modules and
// catching the CompileError (Pyodide's start broke when lazy validation was among them).
import { describe, expect, it } from 'vitest';
import { testSessions } from '../test-setup/session.js';

const { session } = testSessions();

/** One function whose body holds 0xfb 0x01, a GC opcode this Node does not enable. */
const INVALID = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0xfb, 0x01, 0x0b]);

describe("the guest's V8 settings", () => {
  it("leave the host's WebAssembly.compile refusing an invalid function, after a session has run", async () => {
    const s = await session();
    expect((await s.run('1 + 1')).value).toBe('2');
    expect(() => new WebAssembly.Module(INVALID)).toThrow(WebAssembly.CompileError);
    await expect(WebAssembly.compile(INVALID)).rejects.toThrow(WebAssembly.CompileError);
    expect(WebAssembly.validate(INVALID)).toBe(false);
  });
});
