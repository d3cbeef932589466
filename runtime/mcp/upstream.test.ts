// An upstream MCP server that fails: to start, to list its tools, during a call, or by
// hanging. Against a scripted server (test-setup/flaky-mcp-server.mjs) and a real one.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../package-root.js';
import type { StdioServerSpec } from './config.js';
import { McpHub } from './hub.js';
import { McpError, Upstream } from './upstream.js';

const FLAKY = join(packageRoot(), 'test-setup', 'flaky-mcp-server.mjs');
const MEMORY = join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');
const dir = mkdtempSync(join(tmpdir(), 'tic-upstream-'));
const flaky = (env: Record<string, string> = {}, name = 'flaky'): StdioServerSpec => ({ name, origin: 'test', transport: 'stdio', command: process.execPath, args: [FLAKY], env });

const open: Upstream[] = [];
let logs = 0;
const upstream = (spec: StdioServerSpec, o: ConstructorParameters<typeof Upstream>[2] = {}) => {
  const u = new Upstream(spec.name!, spec, { logDir: join(dir, `logs-${++logs}`), ...o });
  open.push(u);
  return u;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((u) => u.close()));
});

const failure = async (p: Promise<unknown>): Promise<McpError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(McpError);
    return err as McpError;
  }
  throw new Error('expected a failure');
};

describe('an upstream MCP server', () => {
  it('lists its tools and answers calls; its stderr goes to its log, not to the result', async () => {
    const u = upstream(flaky());
    await u.start();
    expect(u.tools.map((t) => t.name)).toEqual(['echo', 'pid', 'hang', 'die']);
    expect(u.serverInfo?.name).toBe('flaky-server');
    expect(await u.call('echo', { text: 'hi' })).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    await u.close();
    expect(readFileSync(u.logFile!, 'utf8')).toMatch(/flaky server \d+ starting in mode ok/);
  });

  it('that fails to start: names the server, what it was doing and its log; keeps its last stderr lines for a person', async () => {
    const u = upstream(flaky({ FLAKY_MODE: 'crash-on-start' }));
    const err = await failure(u.start());
    expect(err.message).toBe(`MCP server "flaky" failed while starting: the process exited (its log: ${u.logFile})`);
    expect(err.stderrTail).toContain('boom: cannot open the database');
    const missing = upstream({ name: 'ghost', origin: 'test', transport: 'stdio', command: '/no/such/server', args: [] });
    expect((await failure(missing.start())).message).toMatch(/^MCP server "ghost" failed while starting: .*(ENOENT|not found)/);
  });

  it('that hangs while listing its tools: times out naming what it was doing', async () => {
    const u = upstream(flaky({ FLAKY_MODE: 'hang-on-list' }), { listTimeoutMs: 500 });
    expect((await failure(u.start())).message).toMatch(/^MCP server "flaky" did not list its tools within 500 ms/);
  });

  it('that hangs on a call: the call times out, the server stays up', async () => {
    const u = upstream(flaky(), { callTimeoutMs: 300 });
    await u.start();
    expect((await failure(u.call('hang', {}))).message).toBe('MCP server "flaky" did not answer tools/call "hang" within 300 ms; the call was cancelled');
    expect(await u.call('echo', { text: 'still here' })).toMatchObject({ content: [{ text: 'still here' }] });
    expect(u.restarts).toBe(0);
  });

  it('that dies during a call: says so, and the next call restarts it', async () => {
    const u = upstream(flaky());
    await u.start();
    const pid1 = await u.call('pid', {});
    const err = await failure(u.call('die', {}));
    expect(err.message).toBe('MCP server "flaky" stopped during tools/call "die" (its process exited); the next call will restart it');
    const pid2 = await u.call('pid', {});
    expect(pid2).not.toEqual(pid1);
    expect(u.restarts).toBe(1);
    expect(readFileSync(u.logFile!, 'utf8')).toContain('dying on purpose');
  });

  it('killed from outside between calls: the next call restarts it', async () => {
    const u = upstream(flaky());
    await u.start();
    const pid = Number(((await u.call('pid', {})) as { content: { text: string }[] }).content[0]!.text);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    expect(u.state).toBe('stopped');
    expect(await u.call('echo', { text: 'back' })).toMatchObject({ content: [{ text: 'back' }] });
  });

  it('that cannot be restarted: reported unavailable, without trying again on every call', async () => {
    const marker = join(dir, 'crash-now');
    const u = upstream(flaky({ FLAKY_CRASH_IF: marker }));
    await u.start();
    writeFileSync(marker, '');
    await failure(u.call('die', {}));
    const err = await failure(u.call('echo', { text: 'x' }));
    expect(err.message).toMatch(/^MCP server "flaky" is unavailable: it stopped \(its process exited\) and could not be restarted: failed while starting: the process exited/);
    const again = await failure(u.call('echo', { text: 'x' }));
    expect(again.message).toBe(err.message);
    expect(readFileSync(u.logFile!, 'utf8').match(/starting in mode/g)).toHaveLength(2);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('an upstream over Streamable HTTP', () => {
  it('connects with its headers, answers calls, and when the server goes away says so, then reports it unavailable', async () => {
    const port = 20000 + (process.pid % 20000);
    const everything = spawn(process.execPath, [join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js'), 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve) => everything.stderr!.on('data', (d: Buffer) => /listening/i.test(d.toString()) && resolve()));
    const u = new Upstream('ev', { name: 'ev', origin: 'test', transport: 'http', url: `http://127.0.0.1:${port}/mcp`, headers: { Authorization: 'Bearer t' } }, { logDir: join(dir, 'logs-http') });
    open.push(u);
    try {
      await u.start();
      expect(u.tools.map((t) => t.name)).toContain('echo');
      expect(await u.call('echo', { message: 'over http' })).toMatchObject({ content: [{ text: 'Echo: over http' }] });
    } finally {
      everything.kill('SIGKILL');
    }
    await new Promise((r) => everything.once('exit', r));
    expect((await failure(u.call('echo', { message: 'x' }))).message).toMatch(/^MCP server "ev" stopped during tools\/call "echo" \(the connection failed: .*\); the next call will restart it$/);
    expect((await failure(u.call('echo', { message: 'x' }))).message).toMatch(/^MCP server "ev" is unavailable: it stopped \(the connection failed: .*\) and could not be restarted: failed while connecting: fetch failed \(ECONNREFUSED\)/);
  });
});

describe('a hub of servers', () => {
  it('names each server by its config key, else its serverInfo.name, as unique Python names', async () => {
    const memoryFile = join(dir, 'memory.jsonl');
    const { hub, failures } = await McpHub.start(
      [
        { origin: 'test', transport: 'stdio', command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: memoryFile } },
        flaky({}, 'my-kg'),
        { origin: 'test', transport: 'stdio', command: process.execPath, args: [FLAKY] },
        { origin: 'test', transport: 'stdio', command: process.execPath, args: [FLAKY] },
        flaky({}, 'aio'),
      ],
      { logDir: join(dir, 'logs') },
    );
    try {
      expect(failures).toEqual([]);
      expect(hub.servers.map((s) => s.namespace)).toEqual(['memory_server', 'my_kg', 'flaky_server', 'flaky_server_', 'aio_']);
      const handlers = hub.handlers(hub.tools);
      expect(Object.keys(handlers)).toContain('memory_server.create_entities');
      await handlers['memory_server.create_entities']!({ entities: [{ name: 'a', entityType: 't', observations: ['o'] }] });
      expect(readFileSync(memoryFile, 'utf8')).toContain('"name":"a"');
      expect(await handlers['my_kg.echo']!({ text: 'k' })).toMatchObject({ content: [{ text: 'k' }] });
      expect(hub.toolLists().map((l) => [l.namespace, l.label, l.server])).toContainEqual(['my_kg', 'MCP server "my-kg"', { transport: 'stdio', command: process.execPath, args: [FLAKY] }]);
    } finally {
      await hub.close();
    }
  });
});
