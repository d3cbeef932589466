import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tool as AnthropicSdkTool, ToolResultBlockParam, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages';
import type { ChatCompletionMessageFunctionToolCall, ChatCompletionTool, ChatCompletionToolMessageParam } from 'openai/resources/chat/completions';
import type { FunctionTool, ResponseFunctionToolCall, ResponseInputItem } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGuestDir } from '../test-setup/session.js';
import { aiSdkTool } from './ai-sdk.js';
import { anthropicTool } from './anthropic.js';
import { type CodeMode, codeMode, ConversationClosedError, type RunPythonResult } from './code-mode.js';
import { openaiChatTool, openaiResponsesTool } from './openai.js';
import { openaiAgentsTool } from './openai-agents.js';
import { importPeer, MissingPeerError } from './peer.js';

let cm: CodeMode;
let dir: string;

beforeAll(async () => {
  dir = await testGuestDir();
  cm = await codeMode({ dir, handlers: { echo: (args: unknown) => args }, limits: { timeoutMs: 2_000, graceMs: 300 } });
});

afterAll(async () => {
  await cm?.close();
});

describe('codeMode', () => {
  it('describes run_python with the build prompt and a strict {code} schema', () => {
    expect(cm.tool.name).toBe('run_python');
    expect(cm.tool.description).toBe(readFileSync(join(dir, 'prompt.md'), 'utf8'));
    expect(cm.tool.inputSchema).toEqual({
      type: 'object',
      properties: { code: { type: 'string', description: expect.any(String) } },
      required: ['code'],
      additionalProperties: false,
    });
  });

  it('keeps globals within a conversation, not across conversations, and reaches the handlers', async () => {
    const a = cm.conversation();
    const b = cm.conversation();
    try {
      expect((await a.run('x = tools.echo(text="hi")')).ok).toBe(true);
      expect(await a.run('print("got", x["text"])\nlen(x)')).toMatchObject({ ok: true, stdout: 'got hi\n', value: '1', text: 'got hi\n1' });
      const r = await b.run('x');
      expect(r).toMatchObject({ ok: false, value: null, error: { type: 'NameError' } });
      expect(r.text).toContain("NameError: name 'x' is not defined");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('gives printed output, then the value; an error with its traceback; "(no output)" for nothing', async () => {
    const c = cm.conversation();
    try {
      expect((await c.run('import sys\nprint("out")\nprint("warn", file=sys.stderr)\n6*7')).text).toBe('out\nwarn\n42');
      expect((await c.run('y = 1')).text).toBe('(no output)');
      const e = await c.run('print("before")\n1/0');
      expect(e).toMatchObject({ ok: false, stdout: 'before\n', error: { type: 'ZeroDivisionError', message: 'division by zero' } });
      expect(e.text).toMatch(/^before\nTraceback \(most recent call last\):\n[\s\S]*File "<cell-\d+>", line 2[\s\S]*ZeroDivisionError: division by zero$/);
    } finally {
      await c.close();
    }
  });

  it('turns malformed tool-call input into a failed result the model can read', async () => {
    const c = cm.conversation();
    try {
      const bad = await c.call('{"code": ');
      expect(bad).toMatchObject({ ok: false, error: { type: 'ToolArgumentError' } });
      expect(bad.text).toContain('run_python: the arguments are not JSON');
      expect((await c.call({ cell: 'print(1)' })).text).toContain('the arguments need "code"');
      expect((await c.call(null)).ok).toBe(false);
      expect((await c.call('{"code": "print(2)"}')).text).toBe('2');
      expect((await c.call({ code: '3' })).text).toBe('3');
    } finally {
      await c.close();
    }
  });

  it('refuses cells after close, and close is idempotent', async () => {
    const c = cm.conversation();
    await c.run('1');
    await c.close();
    await c.close();
    expect(c.isClosed).toBe(true);
    await expect(c.run('1')).rejects.toBeInstanceOf(ConversationClosedError);
  });

  it('goes on in a new session, and says so, after a cell ended its session', async () => {
    const c = cm.conversation();
    try {
      await c.run('z = 5');
      // Ignores its TimeoutError: the session is ended graceMs later.
      const stuck = await c.run('import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except BaseException:\n        pass');
      expect(stuck).toMatchObject({ ok: false, error: { type: 'SessionEnded' } });
      // Two calls arriving together after it: one new session for both.
      const [next, also] = await Promise.all([c.run('w = "z" in globals()\nw'), c.run('w')]);
      expect(next).toMatchObject({ ok: true, value: 'False' });
      expect(next.text).toMatch(/^\[the previous session ended: .*; this is a new session: variables and imports were reset\]\n/);
      expect(also).toMatchObject({ ok: true, value: 'False' });
      expect((await c.run('1 + 1')).text).toBe('2');
    } finally {
      await c.close();
    }
  }, 20_000);

  it('starts one session for calls that arrive together, and runs them in order', async () => {
    const c = cm.conversation();
    try {
      const [a, b] = await Promise.all([c.run('n = 1'), c.run('n + 1')]);
      expect(a.ok).toBe(true);
      expect(b).toMatchObject({ ok: true, value: '2' });
    } finally {
      await c.close();
    }
  });

  it('reports a session that cannot start, and tries again on the next cell', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tic-adapters-start-')), 'file');
    writeFileSync(root, 'not a folder');
    const other = await codeMode({ dir, workspace: root, warm: 0 });
    const c = other.conversation({ id: 'c' });
    try {
      await expect(c.run('1')).rejects.toThrow(/cannot start the session/);
      rmSync(root);
      expect((await c.run('1 + 1')).text).toBe('2');
    } finally {
      await other.close();
    }
  });

  it('refuses a conversation past maxSessions until one closes; an open id is still handed back', async () => {
    const small = await codeMode({ dir, maxSessions: 2, warm: 0 });
    try {
      const a = small.conversation({ id: 'a' });
      small.conversation({ id: 'b' });
      expect(() => small.conversation({ id: 'c' })).toThrow(/maximum of 2 conversations open \(maxSessions\)/);
      expect(small.conversation({ id: 'a' })).toBe(a);
      await a.close();
      expect(small.conversation({ id: 'c' }).id).toBe('c');
    } finally {
      await small.close();
    }
  });

  it('closes its open conversations when it closes', async () => {
    const other = await codeMode({ dir, warm: 0 });
    const c = other.conversation();
    await c.run('1');
    await other.close();
    expect(c.isClosed).toBe(true);
    await expect(c.run('1')).rejects.toThrow(`conversation ${c.id} is closed`);
  });

  it('gives each conversation its own workspace folder under `workspace`', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tic-adapters-ws-'));
    const ws = await codeMode({ dir, workspace: root, warm: 0 });
    try {
      const a = ws.conversation({ id: 'alice' });
      const b = ws.conversation({ id: 'bob' });
      await a.run('open("note.txt", "w").write("from alice")');
      expect(readFileSync(join(root, 'alice', 'note.txt'), 'utf8')).toBe('from alice');
      expect((await b.run('import os\nos.listdir(".")')).value).toBe('[]');
      expect(() => ws.conversation({ id: '../escape' })).toThrow(/conversation id "..\/escape"/);
      expect(existsSync(join(root, 'bob'))).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it('refuses ids that would leave the workspace root, and never follows a link planted at ROOT/<id>', async () => {
    const base = mkdtempSync(join(tmpdir(), 'tic-adapters-ids-'));
    const root = join(base, 'root');
    const outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    const ws = await codeMode({ dir, workspace: root, warm: 0 });
    try {
      // '..' was the root's parent and '.' the root with every conversation's folder.
      for (const id of ['..', '.', 'a/b', 'a\\b', 'a\0b', '', 'x'.repeat(200), '/etc']) {
        expect(() => ws.conversation({ id }), JSON.stringify(id)).toThrow(/^conversation id /);
      }
      symlinkSync(outside, join(root, 'planted'));
      await expect(ws.conversation({ id: 'planted' }).run('open("x", "w").write("escaped")')).rejects.toThrow(/symbolic link; it is never followed/);
      // A link swapped in between two sessions of one conversation: the restart refuses it.
      const c = ws.conversation({ id: 'later' });
      expect((await c.run('open("mine", "w").write("1")\nimport os\nos._exit(0)')).ok).toBe(false);
      rmSync(join(root, 'later'), { recursive: true });
      symlinkSync(outside, join(root, 'later'));
      await expect(c.run('open("x", "w").write("escaped")')).rejects.toThrow(/symbolic link/);
      expect(readdirSync(outside)).toEqual([]);
    } finally {
      await ws.close();
    }
  });
});

describe('framework shapes', () => {
  it('OpenAI Chat Completions: a function tool and the tool message', async () => {
    const c = cm.conversation();
    const { tool, call } = openaiChatTool(c);
    const asSdk: ChatCompletionTool = tool;
    expect(asSdk).toMatchObject({ type: 'function', function: { name: 'run_python', description: cm.prompt, strict: true } });
    const toolCall: ChatCompletionMessageFunctionToolCall = { id: 'call_1', type: 'function', function: { name: 'run_python', arguments: '{"code":"print(1+1)"}' } };
    const message: ChatCompletionToolMessageParam = await call(toolCall);
    expect(message).toEqual({ role: 'tool', tool_call_id: 'call_1', content: '2' });
    await expect(call({ id: 'c2', function: { name: 'other', arguments: '{}' } })).rejects.toThrow('openaiChatTool: the call is for the tool "other", not "run_python"');
    await c.close();
  });

  it('OpenAI Responses: a function tool and the function_call_output item', async () => {
    const c = cm.conversation();
    const { tool, call } = openaiResponsesTool(c);
    const asSdk: FunctionTool = tool;
    expect(asSdk).toMatchObject({ type: 'function', name: 'run_python', description: cm.prompt, strict: true });
    const item: ResponseFunctionToolCall = { type: 'function_call', call_id: 'fc_1', name: 'run_python', arguments: '{"code":"[1, 2]"}' };
    const out: ResponseInputItem = await call(item);
    expect(out).toEqual({ type: 'function_call_output', call_id: 'fc_1', output: '[1, 2]' });
    await c.close();
  });

  it('Anthropic Messages: input_schema and a tool_result, is_error when the cell raised', async () => {
    const c = cm.conversation();
    const { tool, call } = anthropicTool(c);
    const asSdk: AnthropicSdkTool = tool;
    expect(asSdk).toMatchObject({ name: 'run_python', description: cm.prompt, input_schema: { type: 'object', required: ['code'] } });
    const use: ToolUseBlock = { type: 'tool_use', id: 'tu_1', name: 'run_python', input: { code: 'print("ok")' }, caller: { type: 'direct' } };
    const ok: ToolResultBlockParam = await call(use);
    expect(ok).toEqual({ type: 'tool_result', tool_use_id: 'tu_1', content: 'ok' });
    const failed = await call({ id: 'tu_2', name: 'run_python', input: { code: 'raise ValueError("no")' } });
    expect(failed).toMatchObject({ type: 'tool_result', tool_use_id: 'tu_2', is_error: true });
    expect(failed.content).toContain('ValueError: no');
    await c.close();
  });

  it('Vercel AI SDK: execute streams preliminary results and ends with the structured result; the model reads the text', async () => {
    const c = cm.conversation();
    const t = await aiSdkTool(c);
    expect(t.description).toBe(cm.prompt);
    const options = { toolCallId: 't1', messages: [], context: {} };
    const seen: RunPythonResult[] = [];
    for await (const r of t.execute!({ code: 'import time\nprint("a", flush=True)\ntime.sleep(0.2)\nprint("b")\n7' }, options) as AsyncIterable<RunPythonResult>) seen.push(r);
    expect(seen.at(-1)).toEqual({ ok: true, stdout: 'a\nb\n', stderr: '', value: '7', error: null, text: 'a\nb\n7' });
    expect(seen[0]).toMatchObject({ ok: true, stdout: 'a\n', text: 'a\n' });
    expect(await t.toModelOutput!({ toolCallId: 't1', input: { code: '' }, output: seen.at(-1)! })).toEqual({ type: 'text', value: 'a\nb\n7' });
    // Mastra passes the output itself, not { output }.
    expect(await (t.toModelOutput as unknown as (o: RunPythonResult) => unknown)(seen.at(-1)!)).toEqual({ type: 'text', value: 'a\nb\n7' });
    await c.close();
  });

  it('Vercel AI SDK in an agent loop (MockLanguageModelV4): preliminary results stream, a raising cell is a tool-error with its traceback, an abort cancels the cell', async () => {
    const { streamText, generateText, isStepCount } = await import('ai');
    const { MockLanguageModelV4 } = await import('ai/test');
    const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
    /** A model that calls run_python with `code` once, then answers with what it read. */
    const model = (code: string) => {
      let calls = 0;
      const reply = (prompt: { role: string; content: unknown }[]) => {
        if (calls++ === 0) return [{ type: 'tool-call' as const, toolCallId: 'c1', toolName: 'run_python', input: JSON.stringify({ code }) }];
        const part = (prompt.at(-1)!.content as { type: string; output?: { type: string; value: unknown } }[]).find((p) => p.type === 'tool-result');
        return [{ type: 'text' as const, text: `${part?.output?.type}: ${String(part?.output?.value)}` }];
      };
      return new MockLanguageModelV4({
        doGenerate: async ({ prompt }) => {
          const content = reply(prompt as never);
          return { content, finishReason: { unified: content[0]!.type === 'tool-call' ? 'tool-calls' : 'stop', raw: undefined }, usage, warnings: [] };
        },
        doStream: async ({ prompt }) => {
          const content = reply(prompt as never);
          const parts = content.map((p) => (p.type === 'tool-call' ? p : [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: p.text }, { type: 'text-end', id: 't' }])).flat();
          const finish = { type: 'finish', finishReason: { unified: content[0]!.type === 'tool-call' ? 'tool-calls' : 'stop', raw: undefined }, usage };
          return { stream: new ReadableStream({ start: (ctl) => { for (const p of [...parts, finish]) ctl.enqueue(p); ctl.close(); } }) as never };
        },
      });
    };
    // A long time limit: only the cancel can stop the aborted cell below.
    const long = await codeMode({ dir, limits: { timeoutMs: 120_000 } });
    const c = long.conversation();
    const tools = { run_python: await aiSdkTool(c) };

    const streamed = streamText({ model: model('print("one", flush=True)\nimport time\ntime.sleep(0.2)\nprint("two")\n2'), tools, stopWhen: isStepCount(3), prompt: 'go' });
    const results: { preliminary?: boolean; output: RunPythonResult }[] = [];
    for await (const p of streamed.fullStream) if (p.type === 'tool-result') results.push(p as never);
    expect(results.some((r) => r.preliminary && r.output.stdout === 'one\n')).toBe(true);
    expect(results.at(-1)).toMatchObject({ output: { ok: true, value: '2' } });
    expect(results.at(-1)!.preliminary).toBeFalsy();

    const failed = await generateText({ model: model('kept = 1\n1/0'), tools, stopWhen: isStepCount(3), prompt: 'go' });
    const errors = failed.steps[0]!.content.filter((p) => p.type === 'tool-error');
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as { error: unknown }).error)).toMatch(/Traceback[\s\S]*ZeroDivisionError: division by zero/);
    expect(failed.text).toMatch(/^error-text: .*ZeroDivisionError: division by zero/s);

    const controller = new AbortController();
    const aborted = generateText({ model: model('import time\nwhile True: time.sleep(0.01)'), tools, stopWhen: isStepCount(3), prompt: 'go', abortSignal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    await expect(aborted).rejects.toThrow();
    // The cancelled cell stopped (KeyboardInterrupt); the next one runs with the globals,
    // not after the 120 s limit.
    const next = await Promise.race([c.run('kept'), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the aborted cell is still running')), 20_000))]);
    expect(next.value).toBe('1');
    await long.close();
  }, 60_000);

  it('OpenAI Agents SDK: a strict function tool that returns the text', async () => {
    const { RunContext } = await import('@openai/agents');
    const c = cm.conversation();
    const t = await openaiAgentsTool(c);
    expect(t).toMatchObject({ type: 'function', name: 'run_python', description: cm.prompt, strict: true });
    expect(await t.invoke(new RunContext(), '{"code":"print(40 + 2)"}')).toBe('42');
    // A raising cell is a failed call whose traceback reaches the model, not the SDK's generic text.
    expect(await t.invoke(new RunContext(), '{"code":"1/0"}')).toMatch(/^Traceback[\s\S]*ZeroDivisionError: division by zero$/);
    await c.close();
  });

  it('names the package to install when a framework is missing', async () => {
    const missing = 'tooliscode-no-such-framework';
    await expect(importPeer(missing, 'someTool', () => import(missing))).rejects.toThrow(new MissingPeerError(`someTool() needs the package "${missing}", which is not installed: npm install ${missing}`));
  });
});

describe('codeMode({ config })', () => {
  it('starts the MCP servers of an mcpServers file, builds their SDK, and serves conversations until closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-codemode-config-'));
    const memory = join(import.meta.dirname, '..', 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');
    const config = join(dir, 'servers.json');
    writeFileSync(config, JSON.stringify({ mcpServers: { kg: { command: process.execPath, args: [memory], env: { MEMORY_FILE_PATH: join(dir, 'kg.jsonl') } } } }));
    const cm = await codeMode({ config });
    try {
      expect(cm.tool.description).toContain('kg');
      const conv = cm.conversation();
      const first = await conv.run('tools.kg.create_entities(entities=[{"name": "Ada", "entityType": "person", "observations": ["wrote code"]}])\nn = 1');
      expect(first.ok, first.text).toBe(true);
      const second = await conv.run('[e["name"] for e in tools.kg.read_graph()["entities"]], n');
      expect(second.value).toBe("(['Ada'], 1)");
      await conv.close();
    } finally {
      await cm.close();
    }
    // The server wrote its graph; after close() it is stopped (the file is complete).
    expect(readFileSync(join(dir, 'kg.jsonl'), 'utf8')).toContain('Ada');
  }, 300_000);

  it('names what is missing when given neither dir nor config', async () => {
    await expect(codeMode({})).rejects.toThrow(/needs dir .* or config/);
  });
});
