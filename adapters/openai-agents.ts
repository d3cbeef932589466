// `run_python` for the OpenAI Agents SDK (`@openai/agents`, imported only when this is
// called): a strict function tool whose result is the text the model reads.

import type { FunctionTool } from '@openai/agents';
import type { Conversation } from './code-mode.js';
import { importPeer } from './peer.js';

/** `new Agent({ tools: [await openaiAgentsTool(conversation)], ... })` */
export async function openaiAgentsTool(conversation: Conversation): Promise<FunctionTool<unknown, Conversation['tool']['inputSchema'], string>> {
  const { tool } = await importPeer('@openai/agents', 'openaiAgentsTool', () => import('@openai/agents'));
  const t = conversation.tool;
  return tool({
    name: t.name,
    description: t.description,
    parameters: t.inputSchema,
    strict: true,
    execute: async (input) => (await conversation.call(input)).text,
  });
}
