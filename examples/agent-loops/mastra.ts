// An agent with Mastra and code mode, against a scripted model: the AI SDK's
// MockLanguageModelV4 (`ai/test`), which Mastra's Agent drives as it would a real provider's;
// no network. The cell's output streams as `tool-output` chunks, counted here.
import { Agent } from '@mastra/core/agent';
import { MockLanguageModelV4 } from 'ai/test';
import { mastraTool } from '../../adapters/mastra.js';
import { runMain } from '../shared/main.js';
import { type Script, aiSdkTurn } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

/** The script as an AI SDK language model (streamed: Mastra's loop streams); it reads the last tool result from the prompt. */
function scriptedModel(script: Script): MockLanguageModelV4 {
  const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
  return new MockLanguageModelV4({
    doStream: async ({ prompt, tools }) => {
      const turn = aiSdkTurn(script, { prompt, tools });
      const parts: unknown[] =
        'code' in turn
          ? [{ type: 'tool-call', toolCallId: turn.id, toolName: script.toolName, input: JSON.stringify({ code: turn.code }) }]
          : [{ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: turn.answer }, { type: 'text-end', id: 't' }];
      parts.push({ type: 'finish', finishReason: { unified: 'code' in turn ? 'tool-calls' : 'stop', raw: undefined }, usage });
      return { stream: new ReadableStream({ start: (c) => { for (const p of parts) c.enqueue(p); c.close(); } }) as never };
    },
  });
}

export async function main() {
  const s = await filesystemScenario('Mastra');
  const conversation = s.codeMode.conversation();
  try {
    const agent = new Agent({
      id: 'files',
      name: 'files',
      instructions: 'Answer questions about the files with run_python.',
      // Mastra's model type is its own copy of the AI SDK's provider spec; the mock implements it.
      model: scriptedModel(s.script) as never,
      tools: { [conversation.tool.name]: await mastraTool(conversation) },
    });
    const stream = await agent.stream(s.task, { maxSteps: 10 });
    let outputChunks = 0;
    for await (const chunk of stream.fullStream) if (chunk.type === 'tool-output') outputChunks++;
    const r = await s.finish(await stream.text);
    return { ...r, lines: [...r.lines, `(${outputChunks} output chunks streamed as tool-output)`] };
  } finally {
    await conversation.close();
  }
}

runMain(import.meta.url, main);
