// Call semantics a model can rely on, end to end through a session: exactly the arguments
// the cell passed reach the host (defaults are documentation, None is null where the
// schema allows null), formats are checked, results are checked against the tool's
// outputSchema, and MCP results read as Python values (server-everything included).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../compiler/build.js';
import { type Guest, loadGuest } from './guest.js';
import { connectMcpServer } from './mcp.js';
import type { Session, SessionOptions, ToolCallEvent } from './session.js';
import { packageRoot } from './package-root.js';

const TOOLS = {
  tools: [
    {
      name: 'update-issue',
      description: 'Updates an issue.',
      inputSchema: {
        type: 'object',
        properties: {
          number: { type: 'integer' },
          state: { enum: ['open', 'closed'], default: 'open' },
          limit: { type: 'integer', minimum: 1, maximum: 100, default: 30 },
          title: { type: 'string' },
          body: { type: ['string', 'null'] },
          milestone: { anyOf: [{ type: 'integer' }, { type: 'null' }], default: null },
          assignee: { type: 'string', nullable: true },
          clear: { const: null },
          labels: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' }, uniqueItems: true },
          due: { type: 'string', format: 'date-time' },
          meta: { type: 'object', properties: { note: { type: ['string', 'null'] }, keep: { type: 'boolean' } } },
        },
        required: ['number'],
        additionalProperties: false,
      },
    },
    {
      name: 'list-items',
      description: 'Lists items.',
      inputSchema: { type: 'object', properties: {} },
      outputSchema: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] } } }, required: ['items'] },
    },
    { name: 'media', description: 'Returns MCP content of one kind.', inputSchema: { type: 'object', properties: { kind: { type: 'string' } }, required: ['kind'] } },
    {
      name: 'json-text',
      description: 'Returns its data as JSON text, as MCP servers did before structuredContent.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      outputSchema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
    },
  ],
};

let guest: Guest;
const open: Session[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tic-calls-'));
  writeFileSync(join(dir, 'tools.json'), JSON.stringify(TOOLS));
  await build({ inputs: [join(dir, 'tools.json')], outDir: join(dir, 'dist'), log: () => {} });
  guest = await loadGuest(join(dir, 'dist'), { warm: 1 });
}, 600_000);

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  await guest?.close();
});

async function session(options: SessionOptions = {}): Promise<Session> {
  const s = await guest.createSession(options);
  open.push(s);
  return s;
}

/** A session whose `update-issue` records the exact arguments of each call. */
async function recording(options: SessionOptions = {}): Promise<{ s: Session; calls: unknown[] }> {
  const calls: unknown[] = [];
  const s = await session({ ...options, handlers: { 'update-issue': (args: unknown) => (calls.push(args), 'ok') } });
  return { s, calls };
}

describe('arguments', () => {
  it('send only what the cell passed: a default it did not pass is not sent, one it passed is', async () => {
    const { s, calls } = await recording();
    const r = await s.run('tools.update_issue(1)\ntools.update_issue(2, state="open", limit=30)\ntools.update_issue(3, state="closed")');
    expect(r.error).toBeUndefined();
    expect(calls).toEqual([{ number: 1 }, { number: 2, state: 'open', limit: 30 }, { number: 3, state: 'closed' }]);
  });

  it('send an explicit None as null where the schema allows null, and drop it elsewhere', async () => {
    const { s, calls } = await recording();
    const r = await s.run('tools.update_issue(1, body=None, milestone=None, assignee=None, clear=None, title=None, state=None, limit=None, labels=None)');
    expect(r.error).toBeUndefined();
    expect(calls).toEqual([{ number: 1, body: null, milestone: null, assignee: null, clear: null }]);
  });

  it('pass nested objects as given, None inside them included', async () => {
    const { s, calls } = await recording();
    await s.run('tools.update_issue(1, meta={"note": None, "keep": False})');
    expect(calls).toEqual([{ number: 1, meta: { note: null, keep: false } }]);
  });

  it('arrive whole however large: JSON the guest encodes in several pieces (past 200 kB) is all sent', async () => {
    const { s, calls } = await recording();
    // 60,000 labels (about 600 kB of JSON): json's C encoder hands such a value back in pieces.
    const r = await s.run('labels = [f"l{chr(97 + i % 26)}x{chr(97 + i // 26 % 26)}y{chr(97 + i // 676 % 26)}z{chr(97 + i // 17576 % 26)}" for i in range(60_000)]\ntools.update_issue(1, labels=labels)\nawait tools.aio.update_issue(2, labels=labels)');
    expect(r.error).toBeUndefined();
    expect(calls).toHaveLength(2);
    for (const c of calls as { labels: string[] }[]) {
      expect(c.labels).toHaveLength(60_000);
      expect(c.labels[59_999]).toBe('lrxtykzd');
    }
  });

  it('behave the same in the aio variants', async () => {
    const { s, calls } = await recording();
    const r = await s.run('import asyncio\nawait asyncio.gather(tools.aio.update_issue(1), tools.aio.update_issue(2, body=None, title=None, limit=30))');
    expect(r.error).toBeUndefined();
    expect(calls).toEqual([{ number: 1 }, { number: 2, body: null, limit: 30 }]);
  });

  it('show the schema defaults in help() as plain values, never the markers', async () => {
    const s = await session();
    const sig = (await s.run('import inspect\nprint(inspect.signature(tools.update_issue))')).stdout;
    expect(sig).toContain(`state: "Literal['open', 'closed']" = 'open'`);
    expect(sig).toMatch(/limit: 'int' = 30\b/);
    expect(sig).toMatch(/milestone: 'int \| None' = None\b/);
    expect(sig).toMatch(/body: 'str \| None' = \.\.\./);
    expect(sig).toMatch(/title: 'str \| None' = None\b/);
    expect(sig).not.toMatch(/_Default|object at/);
    const doc = await s.run('tools.update_issue.__doc__');
    expect(doc.value).toContain('limit: 1..100');
    expect(doc.value).toContain('labels: unique, items pattern ^[a-z]+$');
    expect(doc.value).toContain('due: format date-time');
  });

  it('check formats at the host before the handler runs', async () => {
    // The pre-flight check would refuse the literal before the cell runs: off, to test the host.
    const { s, calls } = await recording({ check: 'off' });
    const bad = await s.run('tools.update_issue(1, due="next tuesday")');
    expect(bad.error).toMatchObject({ type: '_tic.ToolArgumentError', message: 'update_issue(): argument "due" must match format "date-time" (format)' });
    const good = await s.run('tools.update_issue(1, due="2026-12-02T13:00:00Z")');
    expect(good.error).toBeUndefined();
    expect(calls).toEqual([{ number: 1, due: '2026-12-02T13:00:00Z' }]);
  });
});

describe('results checked against the outputSchema', () => {
  const handlers = { 'list-items': () => ({ items: [{ id: 1 }, { id: 2 }, { id: 'three' }] }) };

  it('fail the call with a ToolError naming the JSON path', async () => {
    const events: ToolCallEvent[] = [];
    const s = await session({ handlers });
    const r = await s.run('tools.list_items()', { onToolCall: (e) => events.push(e) });
    expect(r.error).toMatchObject({ type: '_tic.ToolError', message: "list_items(): the result does not match the tool's outputSchema: result.items[2].id: must be integer" });
    expect(r.toolCalls).toMatchObject([{ name: 'list-items', ok: false }]);
    expect(events[0]!.error).toMatch(/result\.items\[2\]\.id/);
    const typed = await s.run('try:\n    tools.list_items()\nexcept tools.ToolError as e:\n    t = e.type\nt');
    expect(typed.value).toBe("'ToolResultError'");
  });

  it("only warn with outputSchema: 'warn': the value reaches the cell, the mismatch reaches onToolCall and stderr", async () => {
    const events: ToolCallEvent[] = [];
    const s = await session({ handlers, outputSchema: 'warn' });
    const r = await s.run('len(tools.list_items()["items"])', { onToolCall: (e) => events.push(e) });
    expect(r).toMatchObject({ ok: true, value: '3' });
    expect(r.stderr).toMatch(/^\[tooliscode: warning: list_items\(\): the result does not match the tool's outputSchema: result\.items\[2\]\.id: must be integer\]\n$/);
    expect(events).toMatchObject([{ name: 'list-items', ok: true, warning: expect.stringMatching(/result\.items\[2\]\.id/) }]);
  });

  it("do not check with outputSchema: 'off', nor a result that fits", async () => {
    const off = await session({ handlers, outputSchema: 'off' });
    expect((await off.run('len(tools.list_items()["items"])')).value).toBe('3');
    const fits = await session({ handlers: { 'list-items': () => ({ items: [{ id: 1 }] }) } });
    expect(await fits.run('tools.list_items()')).toMatchObject({ ok: true, value: "{'items': [{'id': 1}]}", stderr: '' });
  });
});

const PNG = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));

describe('MCP results as Python values', () => {
  const b64 = PNG.toString('base64');
  const blocks: Record<string, unknown> = {
    image: { type: 'image', data: b64, mimeType: 'image/png' },
    audio: { type: 'audio', data: b64, mimeType: 'audio/wav' },
    text_resource: { type: 'resource', resource: { uri: 'file:///notes.txt', mimeType: 'text/plain', text: 'hello' } },
    blob_resource: { type: 'resource', resource: { uri: 'file:///a.bin', mimeType: 'application/octet-stream', blob: b64 } },
    link: { type: 'resource_link', uri: 'file:///b.txt', name: 'b', mimeType: 'text/plain', description: 'B' },
  };
  const media = ({ kind }: { kind: string }) => {
    if (kind === 'error') return { content: [{ type: 'text', text: 'no such file' }], isError: true };
    if (kind === 'structured') return { content: [{ type: 'text', text: 'ignored' }], structuredContent: { a: 1 } };
    if (kind === 'mixed') return { content: [{ type: 'text', text: 'Here:' }, blocks.image, blocks.link] };
    return { content: [blocks[kind]] };
  };

  it('give images and audio as small objects with bytes, a MIME type, save() and a short repr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-media-'));
    const s = await session({ handlers: { media }, workspace: dir });
    const r = await s.run('img = tools.media("image")\nprint(img)\nimg.save("out.png")\n(type(img) is tools.Image, img.mimeType, len(img.data), repr(tools.media("audio")))');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe(`<Image image/png ${PNG.length} bytes>\n`);
    expect(r.value).toBe(`(True, 'image/png', ${PNG.length}, '<Audio audio/wav ${PNG.length} bytes>')`);
    expect(readFileSync(join(dir, 'out.png'))).toEqual(PNG);
  });

  it('give embedded resources and resource links as objects with uri, mimeType and text', async () => {
    const s = await session({ handlers: { media } });
    const r = await s.run('t, b, l = tools.media("text_resource"), tools.media("blob_resource"), tools.media("link")\n[(type(x).__name__, x.uri, x.mimeType, x.text, None if x.data is None else len(x.data)) for x in (t, b, l)]');
    expect(r.value).toBe(`[('Resource', 'file:///notes.txt', 'text/plain', 'hello', 5), ('Resource', 'file:///a.bin', 'application/octet-stream', None, ${PNG.length}), ('ResourceLink', 'file:///b.txt', 'text/plain', None, None)]`);
    const reprs = await s.run('[t, b, l]');
    expect(reprs.value).toBe(`[<Resource file:///notes.txt text/plain 5 chars>, <Resource file:///a.bin application/octet-stream ${PNG.length} bytes>, <ResourceLink file:///b.txt text/plain>]`);
  });

  it('give several blocks as a list (text as str), structuredContent as data, isError as ToolError', async () => {
    const s = await session({ handlers: { media, 'json-text': ({ text }: { text: string }) => ({ content: [{ type: 'text', text }] }) } });
    const r = await s.run('tools.media("mixed")');
    expect(r.value).toBe(`['Here:', <Image image/png ${PNG.length} bytes>, <ResourceLink file:///b.txt text/plain>]`);
    expect(r.value).not.toContain(b64.slice(0, 20));
    expect((await s.run('tools.media("structured")')).value).toBe("{'a': 1}");
    expect((await s.run('tools.media("error")')).error).toMatchObject({ type: '_tic.ToolError', message: 'no such file' });
    // Text of a tool with an outputSchema is its JSON data, and is checked like any result.
    expect((await s.run('tools.json_text(\'{"a": 1}\')')).value).toBe("{'a': 1}");
    expect((await s.run('tools.json_text("not json")')).error?.message).toMatch(/result: must be object/);
  });
});

describe('MCP results from @modelcontextprotocol/server-everything', () => {
  it('read as Python values: text, structuredContent, an image, resource links, an embedded resource', async () => {
    const server = await connectMcpServer(['node', join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js'), 'stdio'], { stderr: 'ignore' });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'tic-everything-'));
      writeFileSync(join(dir, 'tools.json'), JSON.stringify(server.tools));
      await build({ inputs: [join(dir, 'tools.json')], outDir: join(dir, 'dist'), log: () => {} });
      const g = await loadGuest(join(dir, 'dist'), { warm: 0 });
      const s = await g.createSession({ handlers: server.handlers, workspace: join(dir, 'ws') });
      open.push(s);
      const r = await s.run(
        [
          'img = tools.get_tiny_image()',
          'pngs = [x for x in (img if isinstance(img, list) else [img]) if isinstance(x, tools.Image)]',
          'pngs[0].save("tiny.png")',
          'weather = tools.get_structured_content(location="New York")',
          'links = [x for x in tools.get_resource_links(count=2) if isinstance(x, tools.ResourceLink)]',
          'ref = tools.get_resource_reference(resourceType="Text", resourceId=2)',
          'res = [x for x in (ref if isinstance(ref, list) else [ref]) if isinstance(x, tools.Resource)]',
          'print(pngs[0])',
          '(tools.echo(message="hi"), sorted(weather), [l.uri for l in links], res[0].uri, res[0].mimeType, type(res[0].text).__name__)',
        ].join('\n'),
      );
      expect(r.error).toBeUndefined();
      expect(r.stdout).toMatch(/^<Image image\/png \d+ bytes>\n$/);
      expect(readFileSync(join(dir, 'ws', 'tiny.png')).subarray(1, 4).toString()).toBe('PNG');
      expect(r.value).toBe("('Echo: hi', ['conditions', 'humidity', 'temperature'], ['demo://resource/dynamic/blob/1', 'demo://resource/dynamic/text/2'], 'demo://resource/dynamic/text/2', 'text/plain', 'str')");
      await g.close();
    } finally {
      await server.close();
    }
  }, 600_000);
});
