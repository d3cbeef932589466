// The LangChain, Mastra and keyed (one agent, many users) adapters in each framework's own
// agent loop, driven by its own fake/mock model, offline; and what the model is told when a
// conversation's session was reset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGuestDir } from '../test-setup/session.js';
import { aiSdkTool } from './ai-sdk.js';
import { type CodeMode, codeMode, type RunPythonResult } from './code-mode.js';
import { ConversationIdMissingError } from './keyed.js';
import { langchainTool, RUN_PYTHON_OUTPUT_EVENT } from './langchain.js';
import { mastraTool } from './mastra.js';
import { openaiAgentsTool } from './openai-agents.js';

let cm: CodeMode;
let dir: string;

beforeAll(async () => {
  dir = await testGuestDir();
  // A long time limit: only a cancel can stop the aborted cells below.
  cm = await codeMode({ dir, handlers: { echo: (args: unknown) => args }, limits: { timeoutMs: 120_000, graceMs: 300 } });
});

afterAll(async () => {
  await cm?.close();
});

/** Rejects when `p` takes longer than `ms`: a cancelled cell must not hold the next one. */
const soon = <T>(p: Promise<T>, ms = 20_000): Promise<T> => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still running: the aborted cell was not cancelled')), ms))]);

const slowPrint = 'import time\nprint("one", flush=True)\ntime.sleep(0.3)\nprint("two")\n2';
const forever = 'import time\nwhile True: time.sleep(0.01)';

describe('LangChain', () => {
  /** A fake chat model (LangChain's own) that calls run_python with each cell, then answers with what it read. */
  const scripted = async (...cells: string[]) => {
    const { fakeModel } = await import('@langchain/core/testing');
    const { AIMessage } = await import('@langchain/core/messages');
    const model = fakeModel();
    cells.forEach((code, i) => model.respondWithTools([{ name: 'run_python', args: { code }, id: `call_${i}` }]));
    return model.respond((messages) => new AIMessage(`read: ${String(messages.at(-1)!.content)}`));
  };

  it('in a createAgent loop: the text as content, the structured result as artifact, a raising cell is a ToolMessage with status "error" and its traceback', async () => {
    const { createAgent, ToolMessage } = await import('langchain');
    const c = cm.conversation();
    try {
      const agent = createAgent({ model: await scripted('kept = 40\nprint("hi")\nkept + 2', 'kept / 0'), tools: [await langchainTool(c)] });
      const r = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] });
      const results = r.messages.filter((m) => ToolMessage.isInstance(m));
      expect(results).toHaveLength(2);
      expect(results[0]).toMatchObject({ content: 'hi\n42', status: 'success', tool_call_id: 'call_0', artifact: { ok: true, value: '42', stdout: 'hi\n' } });
      expect(results[1]).toMatchObject({ status: 'error', tool_call_id: 'call_1', artifact: { ok: false, error: { type: 'ZeroDivisionError' } } });
      expect(results[1]!.content).toMatch(/^Traceback \(most recent call last\):[\s\S]*ZeroDivisionError: division by zero$/);
      expect(String(r.messages.at(-1)!.content)).toMatch(/^read: Traceback/);
    } finally {
      await c.close();
    }
  });

  it('streams output chunks as tool events (streamMode "tools") and custom events (streamEvents)', async () => {
    const { createAgent } = await import('langchain');
    const c = cm.conversation();
    try {
      const agent = createAgent({ model: await scripted(slowPrint), tools: [await langchainTool(c)] });
      const toolEvents: unknown[] = [];
      for await (const chunk of await agent.stream({ messages: [{ role: 'user', content: 'go' }] }, { streamMode: 'tools' })) toolEvents.push(chunk);
      expect(toolEvents).toContainEqual(expect.objectContaining({ event: 'on_tool_event', name: 'run_python', data: { stream: 'stdout', text: 'one\n' } }));
      expect(toolEvents).toContainEqual(expect.objectContaining({ event: 'on_tool_end', name: 'run_python' }));

      const again = createAgent({ model: await scripted(slowPrint), tools: [await langchainTool(c)] });
      const custom: unknown[] = [];
      for await (const e of again.streamEvents({ messages: [{ role: 'user', content: 'go' }] }, { version: 'v2' })) if (e.event === 'on_custom_event') custom.push(e);
      expect(custom).toContainEqual(expect.objectContaining({ name: RUN_PYTHON_OUTPUT_EVENT, data: { stream: 'stdout', text: 'one\n' } }));
    } finally {
      await c.close();
    }
  });

  it("the run's signal cancels the cell; the next cell answers at once with the globals", async () => {
    const { createAgent } = await import('langchain');
    const c = cm.conversation();
    try {
      await c.run('kept = 1');
      const agent = createAgent({ model: await scripted(forever), tools: [await langchainTool(c)] });
      const controller = new AbortController();
      const run = agent.invoke({ messages: [{ role: 'user', content: 'go' }] }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 300);
      await expect(run).rejects.toThrow();
      expect((await soon(c.run('kept'))).value).toBe('1');
    } finally {
      await c.close();
    }
  });

  it('invoked without a tool call, returns [content, artifact] and throws CellFailedError for a raising cell', async () => {
    const c = cm.conversation();
    try {
      const t = await langchainTool(c, { stream: false });
      expect(await t.invoke({ code: '6 * 7' })).toBe('42');
      await expect(t.invoke({ code: 'raise ValueError("no")' })).rejects.toThrow(/ValueError: no/);
      const m = await t.invoke({ type: 'tool_call', id: 'x', name: 'run_python', args: { code: 'raise ValueError("no")' } });
      expect(m).toMatchObject({ status: 'error', tool_call_id: 'x' });
    } finally {
      await c.close();
    }
  });

  it('langchainTool(codeMode): one agent, a conversation per thread', async () => {
    const { createAgent, ToolMessage } = await import('langchain');
    const tool = await langchainTool(cm);
    const turn = async (thread: string | undefined, code: string, by: 'thread' | 'context' = 'thread') => {
      const agent = createAgent({ model: await scripted(code), tools: [tool] });
      const config = thread === undefined ? {} : by === 'thread' ? { configurable: { thread_id: thread } } : { context: { conversationId: thread } };
      const r = await agent.invoke({ messages: [{ role: 'user', content: 'go' }] }, config);
      return r.messages.find((m) => ToolMessage.isInstance(m))!;
    };
    expect((await turn('lc-alice', 'secret = "alice"')).status).toBe('success');
    expect(await turn('lc-bob', 'secret')).toMatchObject({ status: 'error', content: expect.stringContaining("NameError: name 'secret' is not defined") });
    expect((await turn('lc-alice', 'secret')).content).toBe("'alice'");
    expect((await turn('lc-alice', 'secret', 'context')).content).toBe("'alice'");
    // createAgent's ToolNode turns every tool error into an error ToolMessage, this one too.
    expect(await turn(undefined, '1')).toMatchObject({ status: 'error', content: expect.stringMatching(/langchainTool\(codeMode\) picks each run's conversation by its id, and this run names none/) });
    await cm.conversation({ id: 'lc-alice' }).close();
    await cm.conversation({ id: 'lc-bob' }).close();
  });
});

describe('Mastra', () => {
  const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
  /** The AI SDK's mock model: calls run_python with each cell, then answers with the last tool result it read. */
  const scripted = async (...cells: string[]) => {
    const { MockLanguageModelV4 } = await import('ai/test');
    let turn = 0;
    const reply = (prompt: { role: string; content: unknown }[]) => {
      const code = cells[turn++];
      if (code !== undefined) return { content: [{ type: 'tool-call' as const, toolCallId: `call_${turn}`, toolName: 'run_python', input: JSON.stringify({ code }) }], finish: 'tool-calls' as const };
      const part = (prompt.at(-1)!.content as { type: string; output?: { type: string; value: unknown } }[]).find((p) => p.type === 'tool-result');
      return { content: [{ type: 'text' as const, text: `${part?.output?.type}: ${String(part?.output?.value)}` }], finish: 'stop' as const };
    };
    return new MockLanguageModelV4({
      doGenerate: async ({ prompt }) => {
        const { content, finish } = reply(prompt as never);
        return { content, finishReason: { unified: finish, raw: undefined }, usage, warnings: [] };
      },
      doStream: async ({ prompt }) => {
        const { content, finish } = reply(prompt as never);
        const parts = content.flatMap((p): unknown[] => (p.type === 'tool-call' ? [p] : [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: p.text }, { type: 'text-end', id: 't' }]));
        const end = { type: 'finish', finishReason: { unified: finish, raw: undefined }, usage };
        return { stream: new ReadableStream({ start: (ctl) => { for (const p of [...parts, end]) ctl.enqueue(p); ctl.close(); } }) as never };
      },
    });
  };
  const agentWith = async (tool: unknown, ...cells: string[]) => {
    const { Agent } = await import('@mastra/core/agent');
    return new Agent({ id: 'coder', name: 'coder', instructions: 'Use run_python.', model: (await scripted(...cells)) as never, tools: { run_python: tool as never } });
  };

  it('mastraTool in an Agent loop: the model reads the text; a raising cell is a failed tool call with its traceback', async () => {
    const c = cm.conversation();
    try {
      const ok = await (await agentWith(await mastraTool(c), 'kept = 40\nprint("hi")\nkept + 2')).generate('go', { maxSteps: 3 });
      expect(ok.text).toBe('text: hi\n42');
      expect(ok.toolResults[0]?.payload).toMatchObject({ toolName: 'run_python', result: { ok: true, value: '42', text: 'hi\n42' } });
      const failed = await (await agentWith(await mastraTool(c), 'kept / 0')).generate('go', { maxSteps: 3 });
      expect(failed.text).toMatch(/^error-text: .*Traceback[\s\S]*ZeroDivisionError: division by zero/);
      // Not a successful result: the step's tool part is an error whose text is the traceback.
      expect(failed.toolResults).toEqual([]);
      expect(failed.steps[0]!.content).toContainEqual(expect.objectContaining({ type: 'tool-result', toolName: 'run_python', output: { type: 'error-text', value: expect.stringMatching(/^Traceback[\s\S]*ZeroDivisionError: division by zero$/) } }));
    } finally {
      await c.close();
    }
  });

  it('mastraTool streams output chunks as tool-output; the abort signal cancels the cell', async () => {
    const c = cm.conversation();
    try {
      const streamed = await (await agentWith(await mastraTool(c), slowPrint)).stream('go', { maxSteps: 3 });
      const outputs: unknown[] = [];
      for await (const chunk of streamed.fullStream) if (chunk.type === 'tool-output') outputs.push(chunk.payload);
      expect(outputs).toContainEqual(expect.objectContaining({ output: expect.objectContaining({ type: 'run_python-output', stream: 'stdout', text: 'one\n' }) }));
      expect(await streamed.text).toBe('text: one\ntwo\n2');
      const failing = await (await agentWith(await mastraTool(c), '1/0')).stream('go', { maxSteps: 3 });
      const kinds: string[] = [];
      for await (const chunk of failing.fullStream) kinds.push(chunk.type);
      expect(kinds).toContain('tool-error');
      expect(kinds).not.toContain('tool-result');

      await c.run('kept = 1');
      const controller = new AbortController();
      const aborted = (await agentWith(await mastraTool(c), forever)).generate('go', { maxSteps: 3, abortSignal: controller.signal });
      setTimeout(() => controller.abort(), 300);
      await aborted.catch(() => undefined);
      expect((await soon(c.run('kept'))).value).toBe('1');
    } finally {
      await c.close();
    }
  });

  it.each([{}, { stream: false }])('aiSdkTool(conversation, %o) works in a Mastra agent too (Mastra awaits execute and calls toModelOutput(output))', async (options) => {
    const c = cm.conversation();
    try {
      const r = await (await agentWith(await aiSdkTool(c, options), 'print("hi")\n1 + 1')).generate('go', { maxSteps: 3 });
      expect(r.text).toBe('text: hi\n2');
      const failed = await (await agentWith(await aiSdkTool(c, options), '1/0')).generate('go', { maxSteps: 3 });
      expect(failed.text).toMatch(/^error-text: Traceback[\s\S]*ZeroDivisionError: division by zero$/);
      await c.run('kept = 1');
      const controller = new AbortController();
      const aborted = (await agentWith(await aiSdkTool(c, options), forever)).generate('go', { maxSteps: 3, abortSignal: controller.signal });
      setTimeout(() => controller.abort(), 300);
      await aborted.catch(() => undefined);
      expect((await soon(c.run('kept'))).value).toBe('1');
    } finally {
      await c.close();
    }
  });

  it('mastraTool(codeMode): one agent, a conversation per memory thread or requestContext conversationId', async () => {
    const { RequestContext } = await import('@mastra/core/request-context');
    const tool = await mastraTool(cm);
    const ctx = (id: string) => {
      const rc = new RequestContext();
      rc.set('conversationId', id);
      return rc;
    };
    await (await agentWith(tool, 'secret = "alice"')).generate('go', { maxSteps: 3, requestContext: ctx('m-alice') });
    const bob = await (await agentWith(tool, 'secret')).generate('go', { maxSteps: 3, requestContext: ctx('m-bob') });
    expect(bob.text).toMatch(/NameError: name 'secret' is not defined/);
    const alice = await (await agentWith(tool, 'secret')).generate('go', { maxSteps: 3, requestContext: ctx('m-alice') });
    expect(alice.text).toBe("text: 'alice'");
    // Without a conversationId in the request context, the memory thread names it.
    const direct = tool as unknown as { execute: (input: unknown, context: unknown) => Promise<RunPythonResult> };
    expect((await direct.execute({ code: 'secret' }, { agent: { threadId: 'm-alice' } })).value).toBe("'alice'");
    const none = await (await agentWith(tool, '1')).generate('go', { maxSteps: 3 }).then((r) => r.text, (e: Error) => e.message);
    expect(none).toMatch(/mastraTool\(codeMode\) picks each run's conversation by its id/);
    await cm.conversation({ id: 'm-alice' }).close();
    await cm.conversation({ id: 'm-bob' }).close();
  });
});

describe('OpenAI Agents SDK keyed by the run context', () => {
  it('one module-level Agent shared by two users keeps a session per conversationId, and refuses a run without one', async () => {
    const { Agent, Runner } = await import('@openai/agents');
    const { ScriptedModel, functionCall, modelResponder, assistantMessage } = await import('@openai/agents/testing');
    /** The model's answer: the output of the last tool call it read. */
    const readLast = modelResponder(({ request }) => {
      const last = (request.input as { type?: string; output?: unknown }[]).at(-1)!;
      const out = last.output as string | { text?: string };
      return [assistantMessage(typeof out === 'string' ? out : String(out.text))];
    });
    const call = (code: string, callId: string) => [functionCall('run_python', { code }, { callId })];
    const model = new ScriptedModel([call('secret = "alice"\nprint("hi")\nsecret', 'a1'), readLast, call('secret', 'b1'), readLast, call('secret', 'a2'), readLast, call('1', 'n1')]);
    type Ctx = { conversationId?: string };
    // One Agent for everyone, as a module-level constant would be.
    const printed: string[] = [];
    const tool = await openaiAgentsTool<Ctx>(cm, { onOutput: ({ text }, context) => printed.push(`${context.conversationId}: ${text}`) });
    const agent = new Agent<Ctx>({ name: 'shared', instructions: 'Use run_python.', model, tools: [tool] });
    const runner = new Runner({ tracingDisabled: true });
    const ask = async (conversationId: string | undefined) => String((await runner.run(agent, 'go', { context: conversationId ? { conversationId } : {} })).finalOutput);
    expect(await ask('ag-alice')).toBe("hi\n'alice'");
    expect(printed).toEqual(['ag-alice: hi\n']);
    expect(await ask('ag-bob')).toMatch(/NameError: name 'secret' is not defined$/);
    expect(await ask('ag-alice')).toBe("'alice'");
    await expect(ask(undefined)).rejects.toThrow(/openaiAgentsTool\(codeMode\) picks each run's conversation by its id, and this run names none: run\(agent, input, \{ context: \{ conversationId/);
    await cm.conversation({ id: 'ag-alice' }).close();
    await cm.conversation({ id: 'ag-bob' }).close();
  });
});

describe('conversation({ id }) and resets', () => {
  it('is get-or-create: the open conversation with that id, a new session after close() that says so', async () => {
    const a = cm.conversation({ id: 'goc' });
    expect(cm.conversation({ id: 'goc' })).toBe(a);
    await a.run('x = 1');
    expect((await cm.conversation({ id: 'goc' }).run('x')).text).toBe('1');
    await a.close();
    await expect(a.run('x')).rejects.toThrow(/conversation goc is closed: its session and variables are gone/);
    const again = cm.conversation({ id: 'goc' });
    expect(again).not.toBe(a);
    const first = await again.run('x');
    expect(first.text).toMatch(/^\[conversation goc was closed before; this is a new session: variables and imports were reset\]\nTraceback[\s\S]*NameError: name 'x' is not defined$/);
    expect((await again.run('1')).text).toBe('1');
    await again.close();
  });

  it('every adapter carries the note of a reset session to the model', async () => {
    const idle = await codeMode({ dir, idleTimeoutMs: 200, warm: 0 });
    try {
      const c = idle.conversation();
      const reset = /^\[the previous session was idle for 0 s and ended; this is a new session: variables and imports were reset\]\n/;
      const expire = async () => {
        await c.run('x = 1');
        await new Promise((r) => setTimeout(r, 600));
      };
      await expire();
      const { RunContext } = await import('@openai/agents');
      expect(await (await openaiAgentsTool(c)).invoke(new RunContext(), '{"code":"1"}')).toMatch(reset);
      await expire();
      const ai = (await aiSdkTool(c, { stream: false })).execute!({ code: '1' }, { toolCallId: 't', messages: [], context: {} }) as Promise<RunPythonResult>;
      expect((await ai).text).toMatch(reset);
      await expire();
      expect(await (await langchainTool(c, { stream: false })).invoke({ code: '1' })).toMatch(reset);
      await expire();
      const m = (await mastraTool(c)) as unknown as { execute: (input: unknown, ctx: unknown) => Promise<RunPythonResult> };
      expect((await m.execute({ code: '1' }, {})).text).toMatch(reset);
      await c.close();
    } finally {
      await idle.close();
    }
  }, 30_000);
});

describe('OpenAI and Anthropic loop helpers', () => {
  it('call(x, { signal, onStdout }) streams the output and cancels the cell', async () => {
    const { openaiChatTool, openaiResponsesTool } = await import('./openai.js');
    const { anthropicTool } = await import('./anthropic.js');
    const c = cm.conversation();
    try {
      const chunks: string[] = [];
      const chat = await openaiChatTool(c).call({ id: 'c1', function: { name: 'run_python', arguments: JSON.stringify({ code: slowPrint }) } }, { onStdout: (t) => chunks.push(t) });
      expect(chat.content).toBe('one\ntwo\n2');
      expect(chunks[0]).toBe('one\n');
      await c.run('kept = 1');
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const cancelled = await soon(anthropicTool(c).call({ id: 't1', name: 'run_python', input: { code: forever } }, { signal: controller.signal }));
      expect(cancelled).toMatchObject({ is_error: true, content: expect.stringContaining('KeyboardInterrupt') });
      const next = await soon(openaiResponsesTool(c).call({ call_id: 'f1', name: 'run_python', arguments: '{"code":"kept"}' }));
      expect(next.output).toBe('1');
    } finally {
      await c.close();
    }
  });
});
