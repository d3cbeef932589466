// Sessions that outlive processes: hibernation into a store, several processes on one
// store (a folder, and a real redis-server), a lease per session, a killed process's
// sessions continuing elsewhere.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeMode } from '../adapters/code-mode.js';
import { packageRoot } from '../runtime/package-root.js';
import { FolderStore, openStore } from '../runtime/store.js';
import { testGuestDir } from '../test-setup/session.js';

const TIC = join(packageRoot(), 'bin', 'tic.js');
const FLAKY = join(packageRoot(), 'test-setup', 'flaky-mcp-server.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('codeMode with a store', () => {
  it('hibernates an idle conversation (its worker released) and restores it on the next cell', async () => {
    const store = mkdtempSync(join(tmpdir(), 'tic-store-'));
    const cm = await codeMode({ dir: await testGuestDir(), store, hibernateAfterMs: 200, warm: 0 });
    try {
      const c = cm.conversation({ id: 'alice' });
      await c.run('import collections\ncounts = collections.Counter("hello")\nclass P:\n    def __init__(self): self.v = 7\np = P()');
      const live = () => (cm as unknown as { sessions: { get(id: string): { isLive: boolean } } }).sessions.get('alice').isLive;
      expect(live()).toBe(true);
      await sleep(600);
      expect(live()).toBe(false);
      expect((await c.run('counts["l"], p.v')).text).toBe('(2, 7)');
      expect(live()).toBe(true);
    } finally {
      await cm.close();
    }
  });

  it('another process on the same store continues a conversation by its id; a closed conversation is gone from the store', async () => {
    const store = mkdtempSync(join(tmpdir(), 'tic-store-'));
    const first = await codeMode({ dir: await testGuestDir(), store, warm: 0 });
    const second = await codeMode({ dir: await testGuestDir(), store, warm: 0 });
    try {
      await first.conversation({ id: 'bob' }).run('n = 40');
      // The second picks up the first's checkpoint; the first's copy is then stale and is dropped.
      expect((await second.conversation({ id: 'bob' }).run('n += 1\nn')).text).toBe('41');
      expect((await first.conversation({ id: 'bob' }).run('n + 1')).text).toBe('42');
      await first.conversation({ id: 'bob' }).close();
      expect(await new FolderStore(store).get('bob')).toBeUndefined();
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('several tic serve on one Redis', () => {
  let redis: ChildProcess;
  let redisUrl: string;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server; .ci/run does it)');
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redisUrl = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      try {
        await (await openStore(redisUrl)).close();
        return;
      } catch {
        await sleep(100);
      }
    }
  }, 30_000);

  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    redis?.kill('SIGKILL');
  });

  async function startServe(): Promise<{ proc: ChildProcess; url: string }> {
    const dir = await testGuestDir();
    const proc = spawn(process.execPath, [TIC, 'serve', '--dir', dir, '--mcp', `${process.execPath} ${FLAKY}`, '--http', '0', '--store', redisUrl], { stdio: ['ignore', 'ignore', 'pipe'] });
    servers.push(proc);
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`tic serve exited ${code}: ${err}`)));
    });
    return { proc, url };
  }

  const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

  async function client(url: string, sessionId?: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(new URL(url), sessionId ? { sessionId } : {});
    const c = new Client({ name: 'test', version: '1' });
    await c.connect(transport);
    return { client: c, transport };
  }

  it('a conversation moves between instances with its globals; a killed instance\'s session continues on another', async () => {
    const [a, b, c] = await Promise.all([startServe(), startServe(), startServe()]);
    const onA = await client(a.url);
    const id = onA.transport.sessionId!;
    const run = (x: Awaited<ReturnType<typeof client>>, code: string) => x.client.callTool({ name: 'run_python', arguments: { code } });
    expect(text(await run(onA, 'history = ["a"]\nlen(history)'))).toBe('1');
    const onB = await client(b.url, id);
    expect(text(await run(onB, 'history.append("b")\nhistory'))).toBe("['a', 'b']");
    // Back on A: its own copy is stale, so it continues from B's checkpoint.
    expect(text(await run(onA, 'history.append("a2")\nhistory'))).toBe("['a', 'b', 'a2']");
    a.proc.kill('SIGKILL');
    const onC = await client(c.url, id);
    expect(text(await run(onC, 'history'))).toBe("['a', 'b', 'a2']");
    // A DELETE on any instance ends the session everywhere.
    await onC.transport.terminateSession();
    const gone = await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(gone.status).toBe(404);
  }, 180_000);
});
