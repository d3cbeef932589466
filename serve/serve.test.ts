// `tic serve` end to end, as an MCP client sees it: the MCP SDK's own Client over stdio
// (spawning `node bin/tic.js serve`) and over Streamable HTTP, against real MCP servers
// from npm (memory, everything, filesystem) and a scripted one that fails on demand.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../runtime/package-root.js';
import type { RunPythonOutput } from '../runtime/result-text.js';

const root = packageRoot();
const TIC = join(root, 'bin', 'tic.js');
const pkg = (name: string) => join(root, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js');
const FLAKY = join(root, 'test-setup', 'flaky-mcp-server.mjs');
const SECRET = `sekrit-${process.pid}-${Date.now()}`;

const dir = mkdtempSync(join(tmpdir(), 'tic-serve-'));
const data = join(dir, 'data');
mkdirSync(join(data, 'notes'), { recursive: true });
writeFileSync(join(data, 'notes', 'a.txt'), 'alpha\n');
const config = join(dir, 'servers.json');
writeFileSync(
  config,
  JSON.stringify({
    mcpServers: {
      kg: { command: process.execPath, args: [pkg('server-memory')], env: { MEMORY_FILE_PATH: join(dir, 'kg.jsonl'), TIC_TEST_SECRET: SECRET } },
      everything: { command: process.execPath, args: [pkg('server-everything'), 'stdio'] },
      fs: { command: process.execPath, args: [pkg('server-filesystem'), data] },
      flaky: { command: process.execPath, args: [FLAKY] },
    },
  }),
);
const logDir = join(dir, 'logs');

/** `tic ARGS` in a child process, without blocking this one (a build takes a while). */
function tic(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TIC, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;
const structured = (r: unknown) => (r as CallToolResult).structuredContent as unknown as RunPythonOutput;
const run = (client: Client, code: string) => client.callTool({ name: 'run_python', arguments: { code } });

/** Child processes of `pid` whose command line contains `needle`. */
function childPids(pid: number, needle: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

function filesUnder(d: string): string[] {
  return readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? filesUnder(join(d, n)) : [join(d, n)]));
}

describe('tic build from live MCP servers', () => {
  it('makes one namespace per server, records how each is reached and never a secret value', async () => {
    const r = await tic(['build', '--config', config, '--log-dir', logDir, '-o', join(dir, 'dist')]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'dist', 'manifest.json'), 'utf8')) as { inputs: { namespace: string; server: Record<string, unknown> }[]; tools: { namespace: string; name: string }[] };
    expect(manifest.inputs.map((i) => i.namespace)).toEqual(['kg', 'everything', 'fs', 'flaky']);
    expect(manifest.inputs[0]!.server).toEqual({ transport: 'stdio', command: process.execPath, args: [pkg('server-memory')], env: ['MEMORY_FILE_PATH', 'TIC_TEST_SECRET'] });
    expect(manifest.tools).toContainEqual(expect.objectContaining({ namespace: 'kg', name: 'create_entities' }));
    for (const file of filesUnder(join(dir, 'dist'))) expect(readFileSync(file).includes(SECRET), file).toBe(false);
    const cell = 'tools.kg.create_entities(entities=[{"name": "ada", "entityType": "person", "observations": ["wrote notes"]}])\n' + 'print(tools.everything.echo(message="hi"))\n' + '[e["name"] for e in tools.kg.read_graph()["entities"]]';
    const ran = await tic(['run', join(dir, 'dist'), '--config', config, '--log-dir', logDir, '-c', cell]);
    expect(ran.stderr).toBe('');
    expect(ran.stdout).toBe("Echo: hi\n['ada']\n");
  }, 600_000);

  it('stops with the JSON path of a malformed config, and one line per server that does not start', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mcpServers: { kg: { command: 7 } } }));
    const r = await tic(['build', '--config', bad, '-o', join(dir, 'nope')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`${bad}: mcpServers.kg.command: expected a string\n`);
    const dead = await tic(['build', '--mcp', `${process.execPath} ${join(dir, 'no-such-server.js')}`, '--log-dir', logDir, '-o', join(dir, 'nope')]);
    expect(dead.status).toBe(1);
    expect(dead.stderr).toMatch(/^tic: MCP server "no-such-server" failed while starting: the process exited \(its log: .*no-such-server\.log\)\n/);
    expect(dead.stderr).toContain('Cannot find module');
  }, 120_000);

  it('list-tools takes the same server options', async () => {
    const one = await tic(['list-tools', '--mcp', `${process.execPath} ${FLAKY}`, '--log-dir', logDir]);
    expect((JSON.parse(one.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['echo', 'pid', 'hang', 'die']);
    const out = join(dir, 'lists');
    const several = await tic(['list-tools', '--config', config, '--log-dir', logDir, '-o', out]);
    expect(several.status, several.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['everything.json', 'flaky.json', 'fs.json', 'kg.json']);
  }, 120_000);
});

describe('tic serve over stdio', () => {
  let client: Client;
  let transport: StdioClientTransport;
  beforeAll(async () => {
    transport = new StdioClientTransport({
      command: process.execPath,
      args: [TIC, 'serve', '--config', config, '--log-dir', logDir, '--call-timeout', '20s'],
      env: { ...process.env } as Record<string, string>,
      stderr: 'pipe',
    });
    client = new Client({ name: 'test', version: '1' });
    await client.connect(transport, { timeout: 600_000 });
  }, 600_000);
  afterAll(async () => {
    await client?.close();
  });

  it('offers one tool, run_python, described by the build\'s prompt.md, with an output schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['run_python']);
    expect(tools[0]!.description).toBe(readFileSync(join(dir, 'dist', 'prompt.md'), 'utf8'));
    expect(tools[0]!.inputSchema).toMatchObject({ type: 'object', required: ['code'] });
    expect(tools[0]!.outputSchema).toMatchObject({ type: 'object', required: ['ok', 'stdout', 'stderr', 'value', 'error'] });
  });

  it('keeps globals across calls of the connection; prints, then the value; errors with their traceback', async () => {
    const first = await run(client, 'n = 41\nfiles = tools.fs.list_directory(path=' + JSON.stringify(join(data, 'notes')) + ')\nprint("listed")');
    expect(text(first)).toBe('listed');
    const second = await run(client, 'print(n + 1)\nfiles');
    expect(text(second)).toBe("42\n{'content': '[FILE] a.txt'}");
    expect(structured(second)).toEqual({ ok: true, stdout: '42\n', stderr: '', value: "{'content': '[FILE] a.txt'}", error: null });
    const failed = await run(client, 'print("before")\n1/0');
    expect((failed as CallToolResult).isError).toBe(true);
    expect(text(failed)).toMatch(/^before\nTraceback \(most recent call last\):\n[\s\S]*ZeroDivisionError: division by zero$/);
    expect(structured(failed)).toMatchObject({ ok: false, value: null, error: { type: 'ZeroDivisionError', message: 'division by zero' } });
    expect(text(await run(client, 'n'))).toBe('41');
  });

  it('streams output as progress notifications; a cancelled call (notifications/cancelled) stops the cell, the next answers at once with the globals', async () => {
    const chunks: string[] = [];
    const controller = new AbortController();
    const pending = client.callTool({ name: 'run_python', arguments: { code: 'import time\nfor i in range(3):\n    print("tick", i, flush=True)\n    time.sleep(0.05)\nwhile True: time.sleep(0.01)' } }, undefined, {
      signal: controller.signal,
      onprogress: (p) => {
        chunks.push(p.message ?? '');
        if (chunks.join('').includes('tick 2')) controller.abort('the user pressed stop');
      },
      timeout: 60_000,
    });
    await expect(pending).rejects.toThrow(/pressed stop/);
    expect(chunks.join('')).toBe('tick 0\ntick 1\ntick 2\n');
    // The cancelled cell stopped with KeyboardInterrupt; the session, and n, are still there.
    // Without the cancel it would wait for the cell's 20 s time limit, past this call's own timeout.
    expect(text(await client.callTool({ name: 'run_python', arguments: { code: 'n' } }, undefined, { timeout: 8000 }))).toBe('41');
  });

  it('answers a 12 MB request with an error and stays usable; a 6 MB value comes back cut to fit one message', async () => {
    await expect(run(client, `x = "${'y'.repeat(12_000_000)}"`)).rejects.toThrow(/-32600.*over the 8 MB one message over stdio may have/);
    const big = await run(client, "'v' * 6_000_000");
    expect(JSON.stringify(big).length).toBeLessThan(4.5 * 1048576);
    expect(text(big)).toContain('[tooliscode: ');
    expect(text(await run(client, 'n'))).toBe('41');
  }, 60_000);

  it('answers tools/call without params with -32602 and one readable line; an unknown tool has one error prefix; extra arguments are refused', async () => {
    await expect(client.request({ method: 'tools/call', params: undefined as never }, CallToolResultSchema)).rejects.toThrow(/^MCP error -32602: tools\/call needs params/);
    await expect(client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/^MCP error -32602: no tool named "nope"; the one tool is run_python$/);
    const extra = await client.callTool({ name: 'run_python', arguments: { code: '1', timeout: 5 } });
    expect(extra.isError).toBe(true);
    expect(text(extra)).toBe('run_python takes {"code": "<Python source>"}; unexpected argument "timeout"');
  });

  it('an upstream server that dies during a call: a ToolError naming it; the session goes on and the next call restarts it', async () => {
    const pending = run(client, 'try:\n    tools.flaky.hang()\nexcept tools.ToolError as e:\n    print("ToolError:", e)\nn');
    let pids: number[] = [];
    for (let i = 0; i < 50 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      pids = childPids(transport.pid!, FLAKY);
    }
    expect(pids).toHaveLength(1);
    process.kill(pids[0]!, 'SIGKILL');
    const r = await pending;
    expect(text(r)).toBe('ToolError: MCP server "flaky" stopped during tools/call "hang" (its process exited); the next call will restart it\n41');
    expect(text(await run(client, 'tools.flaky.echo(text="back")'))).toBe("'back'");
    expect(childPids(transport.pid!, FLAKY)).not.toEqual(pids);
  });

  it('a real server killed between calls is restarted by the next call, its own stderr never in a result', async () => {
    const before = await run(client, 'tools.kg.create_entities(entities=[{"name": "lin", "entityType": "person", "observations": []}])\n"ok"');
    expect(text(before)).toBe("'ok'");
    const [pid] = childPids(transport.pid!, 'server-memory');
    process.kill(pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const after = await run(client, 'sorted(e["name"] for e in tools.kg.read_graph()["entities"])');
    expect(text(after)).toContain("'lin'");
    expect(text(after)).not.toMatch(/running on stdio/i);
    expect(readFileSync(join(logDir, 'kg.log'), 'utf8')).toMatch(/Knowledge Graph MCP Server running on stdio[\s\S]*restarting for tools\/call "read_graph"/);
  });
});

describe('tic serve over Streamable HTTP', () => {
  let server: ChildProcess;
  let url: string;
  const workspaces = join(dir, 'sessions');
  beforeAll(async () => {
    server = spawn(process.execPath, [TIC, 'serve', '--config', config, '--log-dir', logDir, '--http', '0', '--idle-timeout', '3s', '--workspace', workspaces, '--timeout', '2s', '--memory', '64'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    url = await new Promise<string>((resolve, reject) => {
      server.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      server.once('exit', (code) => reject(new Error(`tic serve exited ${code}: ${err}`)));
    });
  }, 600_000);
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  const connect = async () => {
    const transport = new StreamableHTTPClientTransport(new URL(url));
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(transport);
    return { client, transport };
  };

  it('binds the loopback, refuses a foreign Host header', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    const status = await new Promise<number>((resolve) => {
      const u = new URL(url);
      request({ host: u.hostname, port: u.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => resolve(res.statusCode!)).end('{}');
    });
    expect(status).toBe(403);
  });

  it('one session per connection: globals persist in it and are not shared; each has its own workspace folder', async () => {
    const a = await connect();
    const b = await connect();
    expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    await run(a.client, 'secret = 7\nopen("note.txt", "w").write("from a")');
    expect(text(await run(a.client, 'secret * 6'))).toBe('42');
    const other = await run(b.client, 'secret');
    expect(text(other)).toContain("NameError: name 'secret' is not defined");
    expect(text(await run(b.client, 'import os\nos.listdir(".")'))).toBe('[]');
    expect(readFileSync(join(workspaces, a.transport.sessionId!, 'note.txt'), 'utf8')).toBe('from a');
    // The upstream servers are shared: what one session writes to the graph the other reads.
    await run(a.client, 'tools.kg.create_entities(entities=[{"name": "shared", "entityType": "t", "observations": []}])');
    expect(text(await run(b.client, '"shared" in [e["name"] for e in tools.kg.read_graph()["entities"]]'))).toBe('True');
    await a.client.close();
    await b.client.close();
  });

  it('--timeout and --memory set the limits of each session, which goes on after hitting them', async () => {
    const a = await connect();
    await run(a.client, 'kept = "yes"');
    expect(text(await run(a.client, 'while True:\n    pass'))).toMatch(/TimeoutError: the cell ran past its time limit/); // in 2 s: with the default 30 s this test would time out
    expect(text(await run(a.client, 'big = bytearray(100 * 1024 * 1024)'))).toMatch(/MemoryError/);
    expect(text(await run(a.client, 'kept'))).toBe("'yes'");
    await a.client.close();
  }, 20_000);

  it('a cell that will not stop ends its session; the next call starts a new one and says so', async () => {
    const a = await connect();
    await run(a.client, 'lost = 1');
    const stuck = await run(a.client, 'import time\nwhile True:\n    try:\n        time.sleep(10)\n    except TimeoutError:\n        pass');
    expect(structured(stuck).error?.type).toBe('SessionEnded');
    const next = await run(a.client, 'print("fresh")\n"lost" in globals()');
    expect(text(next)).toMatch(/^\[the previous session ended: .*; this is a new session: variables and imports were reset, files in \/workspace were kept\]\nfresh\nFalse$/);
    expect(text(await run(a.client, '1 + 1'))).toBe('2');
    await a.client.close();
  }, 30_000);

  it('a DELETE ends the session; its id is then unknown', async () => {
    const a = await connect();
    const id = a.transport.sessionId!;
    await a.transport.terminateSession();
    const status = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(status.status).toBe(404);
    await a.client.close();
  });

  it('an idle session ends after --idle-timeout', async () => {
    const a = await connect();
    await run(a.client, 'x = 1');
    await new Promise((r) => setTimeout(r, 4500));
    await expect(run(a.client, 'x')).rejects.toThrow(/404|not found/i);
    await a.client.close();
  }, 30_000);
});

describe('the HTTP door of serve()', () => {
  type Running = Awaited<ReturnType<typeof import('./serve.js')['serve']>>;
  const start = async (http: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Running> => {
    const { serve } = await import('./serve.js');
    const { parseServersConfig } = await import('../runtime/mcp/config.js');
    return serve({ servers: parseServersConfig(config, readFileSync(config, 'utf8')).filter((s) => s.name === 'flaky'), dir: join(dir, 'dist'), http: { port: 0, ...http }, upstream: { logDir }, log: () => {}, ...extra });
  };
  const initialize = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });

  it('refuses a foreign Origin (and "null"), takes the loopback and --allow-origin ones; an empty batch is an Invalid Request', async () => {
    const running = await start({ allowOrigins: ['https://app.example'] });
    try {
      expect((await initialize(running.url!, { origin: 'https://evil.example' })).status).toBe(403);
      expect((await initialize(running.url!, { origin: 'null' })).status).toBe(403);
      expect((await initialize(running.url!, { origin: 'http://localhost:5173' })).status).toBe(200);
      expect((await initialize(running.url!, { origin: 'https://app.example' })).status).toBe(200);
      const empty = await fetch(running.url!, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '[]' });
      expect(empty.status).toBe(400);
      expect(((await empty.json()) as { error: { code: number } }).error.code).toBe(-32600);
    } finally {
      await running.close();
    }
  });

  it('will not bind off the loopback without a token; with one, every request must carry it', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(/needs a bearer token: --token or TIC_SERVE_TOKEN/);
    await expect(start({ host: '0.0.0.0', token: 'short' })).rejects.toThrow(/too short/);
    const token = 'a'.repeat(24) + 'b'.repeat(8);
    const running = await start({ host: '0.0.0.0', token, allowHosts: ['127.0.0.1'] });
    try {
      const url = running.url!.replace('0.0.0.0', '127.0.0.1');
      expect((await initialize(url)).status).toBe(401);
      expect((await initialize(url, { authorization: `Bearer ${token.slice(0, -1)}x` })).status).toBe(401);
      const foreignHost = await new Promise<number>((resolve) => {
        const u = new URL(url);
        request({ host: u.hostname, port: u.port, path: '/mcp', method: 'POST', headers: { host: 'evil.example', authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => resolve(res.statusCode!)).end('{}');
      });
      expect(foreignHost).toBe(403);
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      expect(text(await run(client, '6 * 7'))).toBe('42');
      await client.close();
    } finally {
      await running.close();
    }
  });

  it('refuses a session over --max-sessions with 503 until one ends', async () => {
    const running = await start({}, { maxSessions: 2 });
    try {
      const clients = [];
      for (let i = 0; i < 2; i++) {
        const transport = new StreamableHTTPClientTransport(new URL(running.url!));
        const client = new Client({ name: 'test', version: '1' });
        await client.connect(transport);
        clients.push({ client, transport });
      }
      const third = await initialize(running.url!);
      expect(third.status).toBe(503);
      expect(await third.text()).toMatch(/maximum of 2 sessions/);
      await clients[0]!.transport.terminateSession();
      expect((await initialize(running.url!)).status).toBe(200);
      for (const c of clients) await c.client.close();
    } finally {
      await running.close();
    }
  });
});

describe('serve() on an earlier build', () => {
  it('takes --dir and the servers of the config, matched to the namespaces of the build', async () => {
    const { serve } = await import('./serve.js');
    const { parseServersConfig } = await import('../runtime/mcp/config.js');
    const lines: string[] = [];
    const running = await serve({
      servers: parseServersConfig(config, readFileSync(config, 'utf8')).filter((s) => s.name !== 'everything'),
      dir: join(dir, 'dist'),
      http: { port: 0 },
      upstream: { logDir },
      log: (l) => lines.push(l),
    });
    try {
      expect(running.dir).toBe(join(dir, 'dist'));
      expect(lines.join('\n')).toContain('no server given for "everything" of the build; those calls will fail');
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(running.url!)));
      expect(text(await run(client, 'tools.flaky.echo(text="from the build")'))).toBe("'from the build'");
      expect(text(await run(client, 'tools.everything.echo(message="x")'))).toContain('ToolError: no MCP server was given for "everything", so its tools cannot be called');
      expect(running.sessions.size).toBe(1);
      await client.close();
    } finally {
      await running.close();
    }
  }, 120_000);
});
