// `run_python` for the OpenAI Agents SDK (`@openai/agents`, imported only when this is
// called): a strict function tool whose result is the text the model reads. The run's
// signal cancels the cell; a cell that raised is a failed tool call whose message (the
// traceback) reaches the model through `errorFunction`, not the SDK's generic text.

import type { FunctionTool } from '@openai/agents';
import { CellFailedError } from './cell-failed.js';
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
    execute: async (input, _context, details) => {
      const r = await conversation.call(input, details?.signal ? { signal: details.signal } : {});
      if (!r.ok) throw new CellFailedError(r);
      return r.text;
    },
    errorFunction: (_context, error) => (error instanceof Error ? error.message : String(error)),
  });
}
