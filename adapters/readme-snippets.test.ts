// The README's "Code mode in your agent framework" snippets, type-checked (`npm test` runs
// tsc on tests) so they cannot drift from the code. They are not run: they need a model.
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { BaseMessage } from '@langchain/core/messages';
import { Agent as MastraAgent } from '@mastra/core/agent';
import { Agent, run } from '@openai/agents';
import { generateText, isStepCount, type LanguageModel, streamText } from 'ai';
import { createAgent } from 'langchain';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { expect, it } from 'vitest';
import { aiSdkTool, anthropicTool, codeMode, connectMcpServer, openaiAgentsTool, openaiChatTool, openaiResponsesTool } from '../index.js';
// Not yet exported by the main entry: see index.ts.
import { langchainTool } from '../index.js';
import { mastraTool } from '../index.js';

export async function readmeSnippets(
  openai: OpenAI,
  anthropic: Anthropic,
  aiModel: LanguageModel,
  model: string,
  instructions: string,
  prompt: string,
  signal: AbortSignal,
  showOutput: (output: unknown) => void,
  push: (id: string | undefined, text: string) => void,
  chatModel: BaseChatModel,
  messages0: BaseMessage[],
) {
  const onStdout = (text: string) => process.stdout.write(text);
  const fs = await connectMcpServer('npx -y @modelcontextprotocol/server-filesystem /data');
  const cm = await codeMode({ dir: 'fs-dist/', handlers: fs.handlers, limits: { timeoutMs: 20_000 }, workspace: '/srv/agent' });
  const conversation = cm.conversation();
  {
    const messages: ChatCompletionMessageParam[] = [];
    const runPython = openaiChatTool(conversation);
    const r = await openai.chat.completions.create({ model, messages, tools: [runPython.tool] }, { signal });
    messages.push(r.choices[0]!.message);
    for (const call of r.choices[0]!.message.tool_calls ?? [])
      if (call.type === 'function') // { role: 'tool', tool_call_id, content }; a raising cell's content is its traceback
        messages.push(await runPython.call(call, { signal, onStdout: (text) => process.stdout.write(text) }));
  }
  {
    const input: ResponseInputItem[] = [];
    const runPython = openaiResponsesTool(conversation);
    const r = await openai.responses.create({ model, input, tools: [runPython.tool] }, { signal });
    for (const item of r.output)
      if (item.type === 'function_call') input.push(item, await runPython.call(item, { signal, onStdout })); // { type: 'function_call_output', call_id, output }
  }
  {
    const messages: MessageParam[] = [];
    const runPython = anthropicTool(conversation);
    const r = await anthropic.messages.create({ model, max_tokens: 4096, messages, tools: [runPython.tool] }, { signal });
    const results = [];
    for (const block of r.content) if (block.type === 'tool_use') results.push(await runPython.call(block, { signal, onStdout }));
    messages.push({ role: 'assistant', content: r.content }, { role: 'user', content: results });
  }
  {
    const { text } = await generateText({ model: aiModel, prompt, stopWhen: isStepCount(10), tools: { run_python: await aiSdkTool(conversation) } });
    void text;
  }
  {
    const model = aiModel;
    const result = streamText({ model, prompt, abortSignal: signal, stopWhen: isStepCount(10), tools: { run_python: await aiSdkTool(conversation) } });
    for await (const part of result.fullStream) {
      if (part.type === 'tool-result' && part.preliminary) showOutput(part.output); // { stdout, stderr } so far
      if (part.type === 'tool-error') console.error(String(part.error)); // the traceback
    }
  }
  {
    const agent = new Agent({ name: 'assistant', instructions, tools: [await openaiAgentsTool(conversation)] });
    const result = await run(agent, 'Which files mention invoice?');
    void result;
  }
  {
    const agent = new Agent({ name: 'assistant', instructions, tools: [await openaiAgentsTool<{ conversationId: string }>(cm, { onOutput: (chunk, ctx) => push(ctx.conversationId, chunk.text) })] });
    const result = await run(agent, 'Which files mention invoice?', { context: { conversationId: 'user-42' }, signal });
    void result;
  }
  {
    const model = chatModel;
    const messages = messages0;
    const agent = createAgent({ model, tools: [await langchainTool(cm)] }); // or langchainTool(conversation)
    const stream = await agent.stream({ messages }, { streamMode: ['updates', 'tools'], configurable: { thread_id: 'user-42' }, signal });
    for await (const [mode, chunk] of stream) if (mode === 'tools' && chunk.event === 'on_tool_event') showOutput(chunk.data); // { stream, text }
  }
  {
    const model = aiModel;
    const agent = new MastraAgent({ id: 'assistant', name: 'assistant', instructions, model: model as never, tools: { run_python: await mastraTool(conversation) } });
    const stream = await agent.stream('Which files mention invoice?', { maxSteps: 10, abortSignal: signal });
    for await (const chunk of stream.fullStream) if (chunk.type === 'tool-output') showOutput(chunk.payload.output); // { stream, text }
  }
  await conversation.close();
  await cm.close();
  await fs.close();
}

it('keeps the README snippets compiling (checked by tsc, see above)', () => {
  expect(typeof readmeSnippets).toBe('function');
});
