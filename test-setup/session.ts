// A built guest with a small, deliberately varied tool list, for session tests. One build
// per test file; the snapshot is cached across files by tic build itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../compiler/build.js';

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
