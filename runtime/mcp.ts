// MCP servers as the host side of a session: list a server's tools (the input of
// `tic build`) and forward each SDK call to it. The handlers return the server's
// CallToolResult as is; the runtime unpacks it (structuredContent, text, isError).

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Handlers } from './session.js';

export class McpError extends Error {
  override name = 'McpError';
}

export interface McpServer {
  client: Client;
  /** The server's `tools/list` result, as `tic build` reads it. */
  tools: { tools: { name: string; description?: string; inputSchema: unknown }[] };
  /** One handler per tool, forwarding the call to the server. */
  handlers: Handlers;
  close(): Promise<void>;
}

/** `node server.js /data` -> ['node', 'server.js', '/data']; double or single quotes group words. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

/** Starts a stdio MCP server, lists its tools (all pages) and makes handlers for them. */
export async function connectMcpServer(command: string | string[], options: { stderr?: 'inherit' | 'ignore' } = {}): Promise<McpServer> {
  const [cmd, ...args] = typeof command === 'string' ? splitCommand(command) : command;
  if (!cmd) throw new McpError('give the MCP server command, e.g. "npx -y @modelcontextprotocol/server-filesystem /data"');
  const client = new Client({ name: 'tooliscode', version: '1' });
  try {
    await client.connect(new StdioClientTransport({ command: cmd, args, stderr: options.stderr ?? 'inherit' }));
  } catch (err) {
    throw new McpError(`cannot start the MCP server ${JSON.stringify([cmd, ...args].join(' '))}: ${(err as Error).message}`);
  }
  const tools: McpServer['tools']['tools'] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  const handlers: Handlers = {};
  for (const t of tools) handlers[t.name] = (args: Record<string, unknown>) => client.callTool({ name: t.name, arguments: args });
  return { client, tools: { tools }, handlers, close: () => client.close() };
}
