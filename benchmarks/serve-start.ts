// How long `tic serve` takes to start, as an MCP client sees it: spawn `tic serve --config`
// with the MCP SDK's client over stdio, time `initialize` and the first `run_python`
// result. Run 1 is a first start (a server key no earlier run used, so a new SDK and a new
// snapshot); runs 2 and 3 start again on the same config and reuse that build.
//   npm run build && node build/benchmarks/serve-start.js
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { packageRoot } from '../runtime/package-root.js';

const root = packageRoot();
const pkg = (name: string) => join(root, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'tic-serve-start-'));
const kg = `kg_${Date.now().toString(36)}`; // a namespace no earlier run built
const config = join(dir, 'servers.json');
writeFileSync(
  config,
  JSON.stringify({
    mcpServers: {
      [kg]: { command: process.execPath, args: [pkg('server-memory')], env: { MEMORY_FILE_PATH: join(dir, 'kg.jsonl') } },
      files: { command: process.execPath, args: [pkg('server-filesystem'), dir] },
      everything: { command: process.execPath, args: [pkg('server-everything'), 'stdio'] },
    },
  }),
);

async function start(): Promise<{ initializeMs: number; firstResultMs: number }> {
  const t0 = performance.now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(root, 'bin', 'tic.js'), 'serve', '--config', config, '--log-dir', join(dir, 'logs')],
    env: { ...process.env } as Record<string, string>,
    stderr: 'ignore',
  });
  const client = new Client({ name: 'serve-start', version: '1' });
  const long = { timeout: 900_000 };
  await client.connect(transport, long);
  const t1 = performance.now();
  await client.listTools(undefined, long);
  await client.callTool({ name: 'run_python', arguments: { code: `len(tools.${kg}.read_graph()["entities"])` } }, undefined, long);
  const t2 = performance.now();
  await client.close();
  return { initializeMs: Math.round(t1 - t0), firstResultMs: Math.round(t2 - t0) };
}

const rows = [];
for (let run = 1; run <= 3; run++) rows.push({ run: run === 1 ? 'first start' : 'again', ...(await start()), loadavg1: Number(loadavg()[0]!.toFixed(1)) });
console.table(rows);
rmSync(dir, { recursive: true, force: true });
