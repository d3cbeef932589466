// MCP servers as the host side of a session. The pieces live in runtime/mcp/: config.ts
// (which servers, from the CLI or an `mcpServers` file), upstream.ts (one server kept
// usable: timeouts, restarts, its stderr in a log), hub.ts (several servers as namespaces).
// `connectMcpServer` is the one-server shortcut `tic run --mcp` and the benchmarks use:
// its handlers are keyed by bare tool name and return the server's CallToolResult as is;
// the runtime unpacks it (structuredContent, text, isError).

import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { type ServerSpec, splitCommand } from './mcp/config.js';
import { McpError, Upstream, type UpstreamOptions } from './mcp/upstream.js';
import type { Handlers } from './session.js';

export { McpError, Upstream, type UpstreamOptions, type UpstreamState } from './mcp/upstream.js';
export { McpHub, type HubServer, type ServerToolList } from './mcp/hub.js';
export {
  CONFIG_SCHEMA,
  ServerOptionError,
  describeServer,
  loadServersConfig,
  parseServersConfig,
  redactUrl,
  serverRecord,
  serverSpecsFromOptions,
  splitCommand,
  type HttpServerSpec,
  type ServerOptions,
  type ServerRecord,
  type ServerSpec,
  type StdioServerSpec,
} from './mcp/config.js';

export interface McpServer {
  /** The server's `tools/list` result, as `tic build` reads it. */
  tools: { tools: Tool[] };
  /** One handler per tool, forwarding the call to the server. */
  handlers: Handlers;
  upstream: Upstream;
  close(): Promise<void>;
}

/** Starts a stdio MCP server (or connects to any ServerSpec), lists its tools and makes handlers for them. */
export async function connectMcpServer(server: string | string[] | ServerSpec, options: UpstreamOptions = {}): Promise<McpServer> {
  let spec: ServerSpec;
  if (typeof server === 'object' && !Array.isArray(server)) spec = server;
  else {
    const [command, ...args] = typeof server === 'string' ? splitCommand(server) : server;
    if (!command) throw new McpError('give the MCP server command, e.g. "npx -y @modelcontextprotocol/server-filesystem /data"');
    spec = { transport: 'stdio', command, args, origin: `--mcp ${JSON.stringify([command, ...args].join(' '))}` };
  }
  const label = spec.name ?? (spec.transport === 'stdio' ? [spec.command, ...spec.args].join(' ') : spec.url);
  const upstream = new Upstream(label, spec, { stderr: 'inherit', ...options });
  await upstream.start();
  const handlers: Handlers = {};
  for (const t of upstream.tools) handlers[t.name] = (args: Record<string, unknown>) => upstream.call(t.name, args);
  return { tools: { tools: upstream.tools }, handlers, upstream, close: () => upstream.close() };
}
