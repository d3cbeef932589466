// The MCP server options every command that reaches servers shares (build, list-tools,
// serve, run, repl), and starting them with one line on stderr per server that fails.

import { type Command, Option } from 'commander';
import { join } from 'node:path';
import { cacheRoot } from '../guest/build/index.js';
import type { ServerOptions, ServerSpec } from '../runtime/mcp/config.js';
import type { McpHub } from '../runtime/mcp/hub.js';
import type { UpstreamOptions } from '../runtime/mcp/upstream.js';

export interface ServerCliOptions extends ServerOptions {
  serverTimeout?: number;
  callTimeout?: number;
  logDir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `30s`, `15m`, `1h`, `500ms` or a plain number of milliseconds. */
export function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[(m[2] ?? 'ms') as 'ms'] : NaN;
  if (!Number.isFinite(ms) || ms <= 0) throw new Error(`expected a duration such as 30000, 30s, 15m or 1h, got ${JSON.stringify(value)}`);
  return Math.round(ms);
}

export function addServerOptions(cmd: Command, { timeouts = true } = {}): Command {
  cmd
    .option('--mcp <command>', 'a stdio MCP server, e.g. "npx -y @modelcontextprotocol/server-memory" (repeatable; quotes group words)', collect)
    .option('--mcp-url <url>', 'a Streamable HTTP MCP server (repeatable)', collect)
    .option('--header <name:value>', 'a header for the --mcp-url servers, e.g. "Authorization: Bearer ..." (repeatable)', collect)
    .option('--config <file>', 'an mcpServers file, as MCP clients use: {"mcpServers": {"name": {"command", "args", "env"} | {"url", "headers"}}}');
  if (timeouts) {
    cmd
      .addOption(new Option('--server-timeout <duration>', 'time limit for a server to start and list its tools (default 30s)').argParser(duration))
      .addOption(new Option('--log-dir <dir>', "folder for the servers' stderr logs (default: <cache>/logs/mcp)"));
  }
  return cmd;
}

export function hasServers(o: ServerCliOptions): boolean {
  return Boolean(o.mcp?.length || o.mcpUrl?.length || o.config);
}

export function upstreamOptions(o: ServerCliOptions): UpstreamOptions & { logDir: string } {
  return {
    logDir: o.logDir ?? join(cacheRoot(), 'logs', 'mcp'),
    ...(o.serverTimeout ? { startTimeoutMs: o.serverTimeout, listTimeoutMs: o.serverTimeout } : {}),
    ...(o.callTimeout ? { callTimeoutMs: o.callTimeout } : {}),
  };
}

export async function serverSpecs(o: ServerCliOptions): Promise<ServerSpec[]> {
  const { serverSpecsFromOptions } = await import('../runtime/mcp/config.js');
  return serverSpecsFromOptions(o);
}

/**
 * Starts the servers; a server that fails gets one line on stderr (what it was doing, its
 * log) and the last lines it wrote there. With `strict`, any failure stops the command.
 */
export async function startServers(specs: ServerSpec[], o: ServerCliOptions, progress: (line: string) => void, strict: boolean): Promise<McpHub> {
  const { McpHub } = await import('../runtime/mcp/hub.js');
  const { hub, failures } = await McpHub.start(specs, upstreamOptions(o));
  for (const f of failures) {
    progress(f.message);
    if (f.stderrTail) process.stderr.write(`${f.stderrTail.replace(/^/gm, '  | ')}\n`);
  }
  if (strict && failures.length) {
    await hub.close();
    throw new Error(`${failures.length} of ${specs.length} MCP server(s) did not start; nothing was written`);
  }
  return hub;
}
