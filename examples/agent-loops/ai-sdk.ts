// An agent loop with the Vercel AI SDK's generateText and code mode, against a scripted
// model (a MockLanguageModelV4 from `ai/test`; no network).
import { generateText, isStepCount } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { aiSdkTool } from '../../adapters/ai-sdk.js';
import { runMain } from '../shared/main.js';
import { type Script, aiSdkTurn } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

/** The script as an AI SDK language model: it reads the last tool result from the prompt. */
function scriptedModel(script: Script): MockLanguageModelV4 {
  const usage = { inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 0, text: 0, reasoning: 0 } };
  return new MockLanguageModelV4({
    doGenerate: async ({ prompt, tools }) => {
      const turn = aiSdkTurn(script, { prompt, tools });
      return 'code' in turn
        ? { content: [{ type: 'tool-call', toolCallId: turn.id, toolName: script.toolName, input: JSON.stringify({ code: turn.code }) }], finishReason: { unified: 'tool-calls', raw: undefined }, usage, warnings: [] }
        : { content: [{ type: 'text', text: turn.answer }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
    },
  });
}

export async function main() {
  const s = await filesystemScenario('Vercel AI SDK');
  const conversation = s.codeMode.conversation();
  try {
    const r = await generateText({
      model: scriptedModel(s.script),
      tools: { [conversation.tool.name]: await aiSdkTool(conversation) },
      stopWhen: isStepCount(10),
      prompt: s.task,
    });
    return await s.finish(r.text);
  } finally {
    await conversation.close();
  }
}

runMain(import.meta.url, main);
