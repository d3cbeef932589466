// An agent loop on the Anthropic Messages API with code mode, against a scripted model
// (the real `@anthropic-ai/sdk` client parses its answers; no network).
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { anthropicTool } from '../../adapters/anthropic.js';
import { runMain } from '../shared/main.js';
import { anthropicFetch } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

export async function main() {
  const s = await filesystemScenario('Anthropic Messages');
  const client = new Anthropic({ apiKey: 'scripted', fetch: anthropicFetch(s.script) });

  const conversation = s.codeMode.conversation();
  const runPython = anthropicTool(conversation);
  const messages: MessageParam[] = [{ role: 'user', content: s.task }];
  let answer = '';
  try {
    for (let turn = 0; turn < 10; turn++) {
      const r = await client.messages.create({ model: 'scripted', max_tokens: 4096, messages, tools: [runPython.tool] });
      messages.push({ role: 'assistant', content: r.content });
      const uses = r.content.filter((b) => b.type === 'tool_use');
      if (r.stop_reason !== 'tool_use' || !uses.length) {
        answer = r.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
        break;
      }
      const results: ToolResultBlockParam[] = [];
      for (const use of uses) results.push(await runPython.call(use));
      messages.push({ role: 'user', content: results });
    }
  } finally {
    await conversation.close();
  }
  return s.finish(answer);
}

runMain(import.meta.url, main);
