// A built guest with a small, deliberately varied tool list, for session tests. One build
// per test file; the snapshot is cached across files by tic build itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { build } from '../compiler/build.js';
import { type Guest, type LoadOptions, loadGuest } from '../runtime/guest.js';
import type { Session } from '../runtime/session.js';

export const TEST_TOOLS = {
  tools: [
    {
      name: 'echo',
      description: 'Returns its arguments.',
      inputSchema: {
        type: 'object',
        properties: {
          text: { type: 'string', maxLength: 20 },
          n: { type: 'integer', minimum: 0 },
          tags: { type: 'array', items: { enum: ['a', 'b'] } },
          extra: {},
        },
        required: ['text'],
        additionalProperties: false,
      },
    },
    { name: 'slow', description: 'Answers after ms milliseconds.', inputSchema: { type: 'object', properties: { ms: { type: 'number' }, tag: { type: 'string' } }, required: ['ms'] } },
    { name: 'fail', description: 'Throws.', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
    { name: 'never', description: 'Never answers.', inputSchema: { type: 'object', properties: {} } },
    { name: 'mcp-result', description: 'Returns an MCP CallToolResult.', inputSchema: { type: 'object', properties: { kind: { enum: ['structured', 'text', 'blocks', 'error'] } }, required: ['kind'] } },
    { name: 'gate', description: 'Waits for the host to open it.', inputSchema: { type: 'object', properties: {} } },
    { name: 'unhandled', description: 'Has no handler.', inputSchema: { type: 'object', properties: {} } },
  ],
};

let built: Promise<string> | undefined;

export function testGuestDir(): Promise<string> {
  built ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-session-'));
    const input = join(dir, 'tools.json');
    writeFileSync(input, JSON.stringify(TEST_TOOLS));
    await build({ inputs: [input], outDir: join(dir, 'dist'), log: () => {} });
    return join(dir, 'dist');
  })();
  return built;
}

/**
 * For a test file: the test guest, loaded before its tests with `options`, and `session()`,
 * whose sessions (and those given to `closeAfter`) are all closed, with the guest, after them.
 */
export function testSessions(options: LoadOptions = {}): { guest: () => Guest; session: (o?: Parameters<Guest['createSession']>[0]) => Promise<Session>; closeAfter: (s: Session) => void } {
  let guest: Guest | undefined;
  const open: Session[] = [];
  beforeAll(async () => {
    guest = await loadGuest(await testGuestDir(), options);
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await guest?.close();
  });
  return {
    guest: () => guest!,
    session: async (o = {}) => {
      const s = await guest!.createSession(o);
      open.push(s);
      return s;
    },
    closeAfter: (s) => void open.push(s),
  };
}
