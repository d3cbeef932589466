// An agent loop on the OpenAI Responses API with code mode, against a scripted model
// (the real `openai` client parses its answers; no network).
import OpenAI from 'openai';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import { openaiResponsesTool } from '../../adapters/openai.js';
import { runMain } from '../shared/main.js';
import { responsesFetch } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

export async function main() {
  const s = await filesystemScenario('OpenAI Responses');
  const client = new OpenAI({ apiKey: 'scripted', fetch: responsesFetch(s.script) });

  const conversation = s.codeMode.conversation();
  const runPython = openaiResponsesTool(conversation);
  const input: ResponseInputItem[] = [{ role: 'user', content: s.task }];
  let answer = '';
  try {
    for (let turn = 0; turn < 10; turn++) {
      const r = await client.responses.create({ model: 'scripted', input, tools: [runPython.tool] });
      const calls = r.output.filter((item) => item.type === 'function_call');
      // The model's turn goes back as input (a stateless loop, no previous_response_id).
      for (const item of r.output) if (item.type === 'function_call' || item.type === 'message') input.push(item);
      if (!calls.length) {
        answer = r.output_text;
        break;
      }
      for (const call of calls) input.push(await runPython.call(call));
    }
  } finally {
    await conversation.close();
  }
  return s.finish(answer);
}

runMain(import.meta.url, main);
