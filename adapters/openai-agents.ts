// `run_python` for the OpenAI Agents SDK (`@openai/agents`, imported only when this is
// called): a strict function tool whose result is the text the model reads. The run's
// signal cancels the cell; a cell that raised is a failed tool call whose message (the
// traceback) reaches the model through `errorFunction`, not the SDK's generic text.
// Given the CodeMode instead of one conversation, the tool picks each run's conversation
// from its context (`run(agent, input, { context: { conversationId } })`), so one
// module-level Agent serves many users, each with their own session.

import type { FunctionTool } from '@openai/agents';
import { CellFailedError, type Conversation } from './code-mode.js';
import { type ConversationSource, ConversationIdMissingError, pickConversation } from './keyed.js';
import { importPeer } from './peer.js';

export interface OpenAIAgentsToolOptions<Context = unknown> {
  /** With a CodeMode: the conversation id of a run, from its context (default `context.conversationId`). */
  conversationId?: (context: Context) => string | undefined;
}

/**
 * `new Agent({ tools: [await openaiAgentsTool(conversation)], ... })`, or for an agent shared
 * by users: `openaiAgentsTool(codeMode)` and `run(agent, input, { context: { conversationId: 'user-42' } })`.
 */
export async function openaiAgentsTool<Context = unknown>(
  source: ConversationSource,
  options: OpenAIAgentsToolOptions<Context> = {},
): Promise<FunctionTool<Context, Conversation['tool']['inputSchema'], string>> {
  const { tool } = await importPeer('@openai/agents', 'openaiAgentsTool', () => import('@openai/agents'));
  const t = source.tool;
  const idOf = options.conversationId ?? ((context: Context) => (context as { conversationId?: string } | undefined)?.conversationId);
  return tool<Conversation['tool']['inputSchema'], Context, string>({
    name: t.name,
    description: t.description,
    parameters: t.inputSchema,
    strict: true,
    execute: async (input, runContext, details) => {
      const conversation = pickConversation('openaiAgentsTool', source, runContext && idOf(runContext.context), 'run(agent, input, { context: { conversationId: "user-42" } })');
      const r = await conversation.call(input, details?.signal ? { signal: details.signal } : {});
      if (!r.ok) throw new CellFailedError(r);
      return r.text;
    },
    errorFunction: (_context, error) => {
      // A run without a conversation is the developer's to fix: it fails the run.
      if (error instanceof ConversationIdMissingError) throw error;
      return error instanceof Error ? error.message : String(error);
    },
  });
}
