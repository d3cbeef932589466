// An agent with the OpenAI Agents SDK and code mode, against a scripted model: the SDK's
// own OpenAIResponsesModel over an `openai` client whose fetch answers from the script.
import { Agent, OpenAIResponsesModel, Runner } from '@openai/agents';
import OpenAI from 'openai';
import { openaiAgentsTool } from '../../adapters/openai-agents.js';
import { runMain } from '../shared/main.js';
import { responsesFetch } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

export async function main() {
  const s = await filesystemScenario('OpenAI Agents SDK');
  const client = new OpenAI({ apiKey: 'scripted', fetch: responsesFetch(s.script) });
  const conversation = s.codeMode.conversation();
  try {
    const agent = new Agent({
      name: 'files',
      instructions: 'Answer questions about the files with run_python.',
      model: new OpenAIResponsesModel(client, 'scripted'),
      tools: [await openaiAgentsTool(conversation)],
    });
    const r = await new Runner({ tracingDisabled: true }).run(agent, s.task, { maxTurns: 10 });
    return await s.finish(String(r.finalOutput ?? ''));
  } finally {
    await conversation.close();
  }
}

runMain(import.meta.url, main);
