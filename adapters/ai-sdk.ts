// `run_python` for the Vercel AI SDK (`ai`, imported only when this is called). `execute`
// streams the cell's output as preliminary results (an async iterable: the AI SDK shows
// them as they come; awaited instead, as Mastra does, it is the final result) and ends
// with the structured result and its text; a cell that raised is a tool error (its traceback is the message the model reads). The run's
// `abortSignal` cancels the cell. `toModelOutput` gives the model only the text.

import type { Tool } from 'ai';
import { CellFailedError } from './cell-failed.js';
import type { Conversation, RunPythonResult } from './code-mode.js';
import { importPeer } from './peer.js';

export interface AiSdkToolOptions {
  /**
   * Preliminary results while the cell prints (default true). Where `execute`'s result is
   * awaited rather than iterated (Mastra), it is the final result either way.
   */
  stream?: boolean;
}

/** `generateText({ tools: { [conversation.tool.name]: await aiSdkTool(conversation) }, ... })` */
export async function aiSdkTool(conversation: Conversation, options: AiSdkToolOptions = {}): Promise<Tool<{ code: string }, RunPythonResult>> {
  const { tool, jsonSchema } = await importPeer('ai', 'aiSdkTool', () => import('ai'));
  const t = conversation.tool;
  const settle = (r: RunPythonResult): RunPythonResult => {
    if (!r.ok) throw new CellFailedError(r);
    return r;
  };
  return tool<{ code: string }, RunPythonResult, {}>({
    description: t.description,
    inputSchema: jsonSchema<{ code: string }>(t.inputSchema),
    execute:
      options.stream === false
        ? async (input, { abortSignal }) => settle(await conversation.call(input, abortSignal ? { signal: abortSignal } : {}))
        : (input, { abortSignal }) =>
            streamedOrAwaited(
              async function* () {
                // The AI SDK takes the last value yielded as the result, the others as preliminary.
                const result = yield* streamCell(conversation, input, abortSignal);
                yield settle(result);
              },
              async () => settle(await conversation.call(input, abortSignal ? { signal: abortSignal } : {})),
            ),
    // The AI SDK passes { output }, Mastra the output itself.
    toModelOutput: (arg: { output: RunPythonResult } | RunPythonResult) => {
      const output = 'text' in arg ? arg : arg.output;
      return { type: output.ok ? 'text' : 'error-text', value: output.text };
    },
  } as Parameters<typeof tool<{ code: string }, RunPythonResult, {}>>[0]);
}

/**
 * The cell as the caller takes it: iterated (the AI SDK checks for an async iterable first)
 * it streams; awaited (Mastra awaits what `execute` returns) it is the final result. The
 * cell starts once, by whichever comes first.
 */
function streamedOrAwaited<T>(stream: () => AsyncGenerator<T>, awaited: () => Promise<T>): AsyncIterable<T> & PromiseLike<T> {
  let started: 'stream' | 'await' | undefined;
  let result: Promise<T> | undefined;
  return {
    [Symbol.asyncIterator]() {
      if (started === 'await') throw new Error('aiSdkTool: this cell is already awaited');
      started = 'stream';
      return stream();
    },
    then(onFulfilled, onRejected) {
      if (started === 'stream') throw new Error('aiSdkTool: this cell is already streamed');
      started = 'await';
      result ??= awaited();
      return result.then(onFulfilled, onRejected);
    },
  };
}

/** Yields the output so far as preliminary results while the cell runs; returns its result. */
async function* streamCell(conversation: Conversation, input: unknown, signal: AbortSignal | undefined): AsyncGenerator<RunPythonResult, RunPythonResult> {
  const out = { stdout: '', stderr: '' };
  let wake: (() => void) | undefined;
  let changed = false;
  const onChunk = (stream: 'stdout' | 'stderr') => (text: string) => {
    out[stream] += text;
    changed = true;
    wake?.();
  };
  let finished = false;
  const done = conversation.call(input, { ...(signal ? { signal } : {}), onStdout: onChunk('stdout'), onStderr: onChunk('stderr') }).finally(() => {
    finished = true;
    wake?.();
  });
  while (!finished) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      if (changed || finished) resolve();
    });
    wake = undefined;
    if (changed && !finished) {
      changed = false;
      yield { ok: true, stdout: out.stdout, stderr: out.stderr, value: null, error: null, text: out.stdout + out.stderr };
    }
  }
  return done;
}
