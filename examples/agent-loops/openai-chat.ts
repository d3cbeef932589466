// An agent loop on OpenAI Chat Completions with code mode, against a scripted model
// (the real `openai` client parses its answers; no network).
import OpenAI from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { openaiChatTool } from '../../adapters/openai.js';
import { runMain } from '../shared/main.js';
import { chatCompletionsFetch } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

export async function main() {
  const s = await filesystemScenario('OpenAI Chat Completions');
  const client = new OpenAI({ apiKey: 'scripted', fetch: chatCompletionsFetch(s.script) });

  const conversation = s.codeMode.conversation();
  const runPython = openaiChatTool(conversation);
  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: s.task }];
  let answer = '';
  try {
    for (let turn = 0; turn < 10; turn++) {
      const r = await client.chat.completions.create({ model: 'scripted', messages, tools: [runPython.tool] });
      const message = r.choices[0]!.message;
      messages.push(message);
      if (!message.tool_calls?.length) {
        answer = message.content ?? '';
        break;
      }
      for (const call of message.tool_calls) if (call.type === 'function') messages.push(await runPython.call(call));
    }
  } finally {
    await conversation.close();
  }
  return s.finish(answer);
}

runMain(import.meta.url, main);
