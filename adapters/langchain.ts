// `run_python` for LangChain (`@langchain/core`, imported only when this is called): a
// structured tool with the JSON Schema of its one argument. The model reads the text; the
// structured result is the ToolMessage's `artifact`. A cell that raised is a ToolMessage
// with `status: "error"` whose content is the traceback (called without a tool call, the
// tool throws CellFailedError). The run's `signal` cancels the cell. While the cell runs,
// each chunk of its output is a tool event (`{ stream, text }`: LangGraph's
// `streamMode: "tools"` shows it as `on_tool_event`) and a custom event `run_python_output`
// (`streamEvents`). Given the CodeMode instead of one conversation, the tool picks each
// run's conversation by its thread (`configurable.thread_id`) or `context.conversationId`.

import type { DynamicStructuredTool, ToolRunnableConfig } from '@langchain/core/tools';
import { CellFailedError } from './cell-failed.js';
import type { CellOptions, Conversation, RunPythonResult } from './code-mode.js';
import { type ConversationSource, pickConversation } from './keyed.js';
import { importPeer } from './peer.js';

/** A chunk of a cell's output, as it is printed. */
export interface RunPythonOutputChunk {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** The custom event (`streamEvents`) of each output chunk. */
export const RUN_PYTHON_OUTPUT_EVENT = 'run_python_output';

export interface LangChainToolOptions {
  /** Output chunks as tool events and custom events while the cell runs (default true). */
  stream?: boolean;
  /**
   * With a CodeMode: the conversation id of a run, from its config (default: the run
   * context's `conversationId`, else the thread, `configurable.thread_id`).
   */
  conversationId?: (config: ToolRunnableConfig) => string | undefined;
}

type RunPythonInput = { code: string };

/** `createAgent({ model, tools: [await langchainTool(conversation)] })`, or `langchainTool(codeMode)` keyed by thread. */
export async function langchainTool(source: ConversationSource, options: LangChainToolOptions = {}): Promise<DynamicStructuredTool> {
  const [{ tool }, { ToolMessage }, { dispatchCustomEvent }] = await importPeer('@langchain/core', 'langchainTool', () =>
    Promise.all([import('@langchain/core/tools'), import('@langchain/core/messages'), import('@langchain/core/callbacks/dispatch')]),
  );
  const t = source.tool;
  const idOf =
    options.conversationId ??
    ((config: ToolRunnableConfig) => {
      const c = config as { context?: { conversationId?: unknown }; configurable?: { thread_id?: unknown } };
      const id = c.context?.conversationId ?? c.configurable?.thread_id;
      return typeof id === 'string' ? id : undefined;
    });

  /** The result as LangChain wants it: [content, artifact], or a failed ToolMessage. */
  const settle = (r: RunPythonResult, config: ToolRunnableConfig) => {
    if (r.ok) return [r.text, r];
    const id = config.toolCall?.id;
    if (!id) throw new CellFailedError(r);
    // A ToolMessage as the content is passed on as it is.
    return [new ToolMessage({ content: r.text, artifact: r, tool_call_id: id, name: t.name, status: 'error' }), r];
  };

  const func =
    options.stream === false
      ? async (input: RunPythonInput, config: ToolRunnableConfig) => {
          const conversation = pickConversation('langchainTool', source, idOf(config), howToName);
          return settle(await conversation.call(input, config.signal ? { signal: config.signal } : {}), config);
        }
      : async function* (input: RunPythonInput, config: ToolRunnableConfig) {
          const conversation = pickConversation('langchainTool', source, idOf(config), howToName);
          const onChunk = (chunk: RunPythonOutputChunk) => {
            // Without a parent run (the tool invoked on its own) there is no one to tell.
            dispatchCustomEvent(RUN_PYTHON_OUTPUT_EVENT, chunk, config).catch(() => {});
          };
          const result = yield* outputChunks(conversation, input, config.signal, onChunk);
          return settle(result, config);
        };
  return tool(func as never, {
    name: t.name,
    description: t.description,
    schema: t.inputSchema,
    responseFormat: 'content_and_artifact',
  }) as unknown as DynamicStructuredTool;
}

const howToName = 'agent.invoke(input, { configurable: { thread_id: "user-42" } })';

/** Yields each output chunk while the cell runs (and hands it to `onChunk`); returns its result. */
async function* outputChunks(
  conversation: Conversation,
  input: unknown,
  signal: AbortSignal | undefined,
  onChunk: (chunk: RunPythonOutputChunk) => void,
): AsyncGenerator<RunPythonOutputChunk, RunPythonResult> {
  const queue: RunPythonOutputChunk[] = [];
  let wake: (() => void) | undefined;
  const push = (stream: RunPythonOutputChunk['stream']) => (text: string) => {
    const chunk = { stream, text };
    queue.push(chunk);
    onChunk(chunk);
    wake?.();
  };
  let finished = false;
  const cell: CellOptions = { ...(signal ? { signal } : {}), onStdout: push('stdout'), onStderr: push('stderr') };
  const done = conversation.call(input, cell).finally(() => {
    finished = true;
    wake?.();
  });
  done.catch(() => {}); // handled where it is returned, maybe after a slow consumer
  for (;;) {
    while (queue.length) yield queue.shift()!;
    if (finished) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (queue.length || finished) resolve();
    });
    wake = undefined;
  }
  return done;
}
