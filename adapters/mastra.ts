// `run_python` for Mastra (`@mastra/core`, imported only when this is called): a tool from
// `createTool` with the JSON Schema of its one argument. `execute` is a plain async function
// (Mastra does not consume an async generator) returning the structured result; the model
// reads its text (`toModelOutput`). A cell that raised throws CellFailedError, which Mastra
// marks as a failed tool call (a `tool-error` in its stream) whose message, the traceback,
// reaches the model. The run's `abortSignal` cancels the cell; while it runs, each chunk
// of its output is written to the tool's stream (`{ type: 'run_python-output', stream, text }`,
// a `tool-output` chunk of `agent.stream()`). Given the CodeMode instead of one
// conversation, the tool picks each run's conversation by the request context's
// `conversationId`, else the memory thread.

import type { ToolExecutionContext } from '@mastra/core/tools';
import { CellFailedError } from './cell-failed.js';
import type { CellOptions, RunPythonResult } from './code-mode.js';
import { type ConversationSource, pickConversation } from './keyed.js';
import { importPeer } from './peer.js';

export interface MastraToolOptions {
  /** Output chunks written to the tool's stream while the cell runs (default true). */
  stream?: boolean;
  /**
   * With a CodeMode: the conversation id of a run, from its execution context (default:
   * `requestContext.get('conversationId')`, else the memory thread, `agent.threadId`).
   */
  conversationId?: (context: ToolExecutionContext) => string | undefined;
}

/** `new Agent({ ..., tools: { run_python: await mastraTool(conversation) } })` */
export async function mastraTool(source: ConversationSource, options: MastraToolOptions = {}) {
  const { createTool } = await importPeer('@mastra/core', 'mastraTool', () => import('@mastra/core/tools'));
  const t = source.tool;
  const idOf =
    options.conversationId ??
    ((context: ToolExecutionContext) => {
      const id = context.requestContext?.get('conversationId' as never) ?? context.agent?.threadId;
      return typeof id === 'string' ? id : undefined;
    });
  return createTool({
    id: t.name,
    description: t.description,
    inputSchema: t.inputSchema,
    execute: async (input: unknown, context: ToolExecutionContext): Promise<RunPythonResult> => {
      const conversation = pickConversation('mastraTool', source, idOf(context), 'agent.generate(prompt, { memory: { thread: "user-42", resource: "user-42" } }) or a requestContext with conversationId');
      const cell: CellOptions = context.abortSignal ? { signal: context.abortSignal } : {};
      const writer = options.stream === false ? undefined : context.writer;
      if (writer) {
        const write = (stream: 'stdout' | 'stderr') => (text: string) => void writer.write({ type: `${t.name}-output`, stream, text }).catch(() => {});
        cell.onStdout = write('stdout');
        cell.onStderr = write('stderr');
      }
      const r = await conversation.call(input, cell);
      if (!r.ok) throw new CellFailedError(r);
      return r;
    },
    toModelOutput: (output: unknown) => ({ type: 'text', value: (output as RunPythonResult).text }),
  });
}
