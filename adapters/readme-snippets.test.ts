// The README's "Code mode in your agent framework" snippets, type-checked (`npm test` runs
// tsc on tests) so they cannot drift from the code. They are not run: they need a model.
import type Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { Agent, run } from '@openai/agents';
import { generateText, isStepCount, type LanguageModel } from 'ai';
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { expect, it } from 'vitest';
import { aiSdkTool, anthropicTool, codeMode, connectMcpServer, openaiAgentsTool, openaiChatTool, openaiResponsesTool } from '../index.js';

export async function readmeSnippets(openai: OpenAI, anthropic: Anthropic, aiModel: LanguageModel, model: string, instructions: string, prompt: string) {
  const fs = await connectMcpServer('npx -y @modelcontextprotocol/server-filesystem /data');
  const cm = await codeMode({ dir: 'fs-dist/', handlers: fs.handlers, limits: { timeoutMs: 20_000 }, workspace: '/srv/agent' });
  const conversation = cm.conversation();
  {
    const messages: ChatCompletionMessageParam[] = [];
    const runPython = openaiChatTool(conversation);
    const r = await openai.chat.completions.create({ model, messages, tools: [runPython.tool] });
    messages.push(r.choices[0]!.message);
    for (const call of r.choices[0]!.message.tool_calls ?? []) if (call.type === 'function') messages.push(await runPython.call(call));
  }
  {
    const input: ResponseInputItem[] = [];
    const runPython = openaiResponsesTool(conversation);
    const r = await openai.responses.create({ model, input, tools: [runPython.tool] });
    for (const item of r.output) if (item.type === 'function_call') input.push(item, await runPython.call(item));
  }
  {
    const messages: MessageParam[] = [];
    const runPython = anthropicTool(conversation);
    const r = await anthropic.messages.create({ model, max_tokens: 4096, messages, tools: [runPython.tool] });
    const results = [];
    for (const block of r.content) if (block.type === 'tool_use') results.push(await runPython.call(block));
    messages.push({ role: 'assistant', content: r.content }, { role: 'user', content: results });
  }
  {
    const { text } = await generateText({ model: aiModel, prompt, stopWhen: isStepCount(10), tools: { run_python: await aiSdkTool(conversation) } });
    void text;
  }
  {
    const agent = new Agent({ name: 'assistant', instructions, tools: [await openaiAgentsTool(conversation)] });
    const result = await run(agent, 'Which files mention invoice?');
    void result;
  }
  await conversation.close();
  await cm.close();
  await fs.close();
}

it('keeps the README snippets compiling (checked by tsc, see above)', () => {
  expect(typeof readmeSnippets).toBe('function');
});
