// A scripted stdio MCP server for tests of failures: it can fail to start, hang while
// listing its tools, hang on a call, or exit in the middle of one.
//   FLAKY_MODE=ok | crash-on-start | hang-on-list
//   FLAKY_CRASH_IF=<file>: crash on start when this file exists (a restart that fails)
import { existsSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const mode = process.env.FLAKY_MODE ?? 'ok';
process.stderr.write(`flaky server ${process.pid} starting in mode ${mode}\n`);
if (mode === 'crash-on-start' || (process.env.FLAKY_CRASH_IF && existsSync(process.env.FLAKY_CRASH_IF))) {
  process.stderr.write('boom: cannot open the database\n');
  process.exit(1);
}
const server = new Server({ name: 'flaky-server', version: '1.0.0' }, { capabilities: { tools: {} } });
const obj = (properties = {}) => ({ type: 'object', properties });
server.setRequestHandler(ListToolsRequestSchema, async () => {
  if (mode === 'hang-on-list') await new Promise(() => {});
  return {
    tools: [
      { name: 'echo', description: 'Returns its text.', inputSchema: obj({ text: { type: 'string' } }) },
      { name: 'pid', description: 'The process id.', inputSchema: obj() },
      { name: 'hang', description: 'Never answers.', inputSchema: obj() },
      { name: 'die', description: 'Exits during the call.', inputSchema: obj() },
    ],
  };
});
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  switch (req.params.name) {
    case 'echo':
      return { content: [{ type: 'text', text: String(req.params.arguments?.text ?? '') }] };
    case 'pid':
      return { content: [{ type: 'text', text: String(process.pid) }] };
    case 'hang':
      return new Promise(() => {});
    case 'die':
      process.stderr.write('flaky server: dying on purpose\n');
      process.exit(3);
  }
  return { content: [{ type: 'text', text: `unknown tool ${req.params.name}` }], isError: true };
});
await server.connect(new StdioServerTransport());
