// A scripted model: a test double that answers with the tool calls of a fixed script, in
// the real wire format of each API, so the real SDK clients parse its answers. Each step
// is a cell to run (a `run_python` call) or the final answer, which may quote the last
// tool result (read back from the request the client sent, so the round trip is real).

export type Step = { code: string } | { answer: (lastToolResult: string) => string };

export class Script {
  private next = 0;
  /** What the model "saw": the tool result text read from each request (after the first). */
  readonly toolResults: string[] = [];
  /** The tool descriptions offered in each request, by tool name. */
  readonly offered: Record<string, string>[] = [];

  constructor(
    readonly steps: Step[],
    readonly toolName = 'run_python',
  ) {}

  get done(): boolean {
    return this.next >= this.steps.length;
  }

  /** The model's turn, given the tool result of its last call (if any) and the tools it was offered. */
  turn(lastToolResult: string | undefined, offered: Record<string, string>): { code: string; id: string } | { answer: string } {
    this.offered.push(offered);
    if (!(this.toolName in offered)) throw new Error(`scripted model: the request offers no ${this.toolName} tool (offered: ${Object.keys(offered).join(', ') || 'none'})`);
    if (lastToolResult !== undefined) this.toolResults.push(lastToolResult);
    const step = this.steps[this.next++];
    if (!step) throw new Error('scripted model: the script has ended, but the client asked again');
    if ('code' in step) return { code: step.code, id: `call_${this.next}` };
    return { answer: step.answer(lastToolResult ?? '') };
  }
}

const json = (body: unknown): Response => new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
const bodyOf = async (init: RequestInit | undefined): Promise<any> => JSON.parse(String(init?.body ?? '{}'));
const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/** `new OpenAI({ apiKey: 'scripted', fetch: chatCompletionsFetch(script) })` */
export function chatCompletionsFetch(script: Script): typeof fetch {
  return async (_url, init) => {
    const body = await bodyOf(init);
    const last = body.messages.at(-1);
    const offered = Object.fromEntries((body.tools ?? []).map((t: any) => [t.function.name, t.function.description]));
    const turn = script.turn(last?.role === 'tool' ? String(last.content) : undefined, offered);
    const message =
      'code' in turn
        ? { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: turn.id, type: 'function', function: { name: script.toolName, arguments: JSON.stringify({ code: turn.code }) } }] }
        : { role: 'assistant', content: turn.answer, refusal: null };
    return json({
      id: `chatcmpl-${script.toolResults.length}`,
      object: 'chat.completion',
      created: 0,
      model: body.model,
      choices: [{ index: 0, message, finish_reason: 'code' in turn ? 'tool_calls' : 'stop', logprobs: null }],
      usage,
    });
  };
}

/** `new OpenAI({ apiKey: 'scripted', fetch: responsesFetch(script) })`; also what the Agents SDK's OpenAIResponsesModel calls. */
export function responsesFetch(script: Script): typeof fetch {
  return async (_url, init) => {
    const body = await bodyOf(init);
    const input = typeof body.input === 'string' ? [] : body.input;
    const last = input.at(-1);
    const offered = Object.fromEntries((body.tools ?? []).filter((t: any) => t.type === 'function').map((t: any) => [t.name, t.description]));
    const turn = script.turn(last?.type === 'function_call_output' ? String(last.output) : undefined, offered);
    const n = script.toolResults.length;
    const output =
      'code' in turn
        ? [{ type: 'function_call', id: `fc_${n}`, call_id: turn.id, name: script.toolName, arguments: JSON.stringify({ code: turn.code }), status: 'completed' }]
        : [{ type: 'message', id: `msg_${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: turn.answer, annotations: [] }] }];
    return json({
      id: `resp_${n}`,
      object: 'response',
      created_at: 0,
      model: body.model,
      status: 'completed',
      output,
      parallel_tool_calls: true,
      tool_choice: 'auto',
      tools: body.tools ?? [],
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    });
  };
}

/** `new Anthropic({ apiKey: 'scripted', fetch: anthropicFetch(script) })` */
export function anthropicFetch(script: Script): typeof fetch {
  return async (_url, init) => {
    const body = await bodyOf(init);
    const last = body.messages.at(-1);
    const result = Array.isArray(last?.content) ? last.content.find((b: any) => b.type === 'tool_result') : undefined;
    const offered = Object.fromEntries((body.tools ?? []).map((t: any) => [t.name, t.description]));
    const turn = script.turn(result ? String(result.content) : undefined, offered);
    return json({
      id: `msg_${script.toolResults.length}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: 'code' in turn ? [{ type: 'tool_use', id: turn.id, name: script.toolName, input: { code: turn.code } }] : [{ type: 'text', text: turn.answer, citations: null }],
      stop_reason: 'code' in turn ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    });
  };
}

/** An AI SDK prompt (LanguageModelV4 call options), as much of it as a script reads. */
interface AiSdkCall {
  prompt: { role: string; content: unknown }[];
  tools?: { type: string; name: string; description?: string }[];
}

/**
 * The script's next turn for an AI SDK mock model (the AI SDK's own and Mastra's): it reads
 * the last tool result from the prompt and the tools offered.
 */
export function aiSdkTurn(script: Script, call: { prompt: unknown; tools?: unknown }): ReturnType<Script['turn']> {
  const { prompt, tools } = call as AiSdkCall;
  const last = prompt.at(-1);
  const parts = last?.role === 'tool' ? (last.content as { type: string; output?: { type: string; value: unknown } }[]) : [];
  const output = parts.find((p) => p.type === 'tool-result')?.output;
  const text = output && (output.type === 'text' || output.type === 'error-text') ? String(output.value) : output ? JSON.stringify(output) : undefined;
  const offered = Object.fromEntries((tools ?? []).map((t) => [t.name, t.type === 'function' ? (t.description ?? '') : '']));
  return script.turn(text, offered);
}
