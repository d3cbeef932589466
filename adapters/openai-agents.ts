// `run_python` for the OpenAI Agents SDK (`@openai/agents`, imported only when this is
// called): a strict function tool whose result is the text the model reads. The run's
// signal cancels the cell (`onOutput` sees its output as it is printed); a cell that raised is a failed tool call whose message (the
// traceback) reaches the model through `errorFunction`, not the SDK's generic text.
// Given the CodeMode instead of one conversation, the tool picks each run's conversation
// from its context (`run(agent, input, { context: { conversationId } })`), so one
// module-level Agent serves many users, each with their own session.

import type { FunctionTool } from '@openai/agents';
import { CellFailedError } from './cell-failed.js';
import type { CellOptions, Conversation } from './code-mode.js';
import { type ConversationSource, ConversationIdMissingError, pickConversation } from './keyed.js';
import { importPeer } from './peer.js';

export interface OpenAIAgentsToolOptions<Context = unknown> {
  /** With a CodeMode: the conversation id of a run, from its context (default `context.conversationId`). */
  conversationId?: (context: Context) => string | undefined;
  /**
   * Each chunk of a cell's output as it is printed (the SDK's stream carries no tool
   * progress): e.g. to show it in a UI, with the run's context to know whose it is.
   */
  onOutput?: (chunk: { stream: 'stdout' | 'stderr'; text: string }, context: Context) => void;
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
      const cell: CellOptions = details?.signal ? { signal: details.signal } : {};
      const onOutput = options.onOutput;
      if (onOutput) {
        cell.onStdout = (text) => onOutput({ stream: 'stdout', text }, runContext?.context as Context);
        cell.onStderr = (text) => onOutput({ stream: 'stderr', text }, runContext?.context as Context);
      }
      const r = await conversation.call(input, cell);
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
