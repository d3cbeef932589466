// `run_python` for the OpenAI APIs, Chat Completions and Responses: plain objects, so no
// import of the `openai` package is needed. `call(toolCall, { signal, onStdout, onStderr })`
// cancels the cell with the loop's signal and streams its output. The shapes are checked against the SDK's own
// types in adapters/adapters.test.ts.

import type { CellOptions, Conversation } from './code-mode.js';

export interface OpenAIChatTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown>; strict: boolean };
}
/** The part of a Chat Completions tool call that is read (`message.tool_calls[i]`). */
export interface OpenAIChatToolCall {
  id: string;
  function: { name: string; arguments: string };
}
export interface OpenAIChatToolMessage {
  role: 'tool';
  tool_call_id: string;
  content: string;
}

export interface OpenAIResponsesTool {
  type: 'function';
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  strict: boolean;
}
/** The part of a Responses `function_call` output item that is read. */
export interface OpenAIResponsesFunctionCall {
  call_id: string;
  name: string;
  arguments: string;
}
export interface OpenAIResponsesFunctionCallOutput {
  type: 'function_call_output';
  call_id: string;
  output: string;
}

export function checkName(adapter: string, conversation: Conversation, name: string): void {
  if (name !== conversation.tool.name) throw new Error(`${adapter}: the call is for the tool ${JSON.stringify(name)}, not ${JSON.stringify(conversation.tool.name)}`);
}

/** Chat Completions: `tools: [tool]`, and `messages.push(await call(toolCall))` for each call of it. */
export function openaiChatTool(conversation: Conversation): {
  tool: OpenAIChatTool;
  call(toolCall: OpenAIChatToolCall, options?: CellOptions): Promise<OpenAIChatToolMessage>;
} {
  const t = conversation.tool;
  return {
    tool: { type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema, strict: true } },
    async call(toolCall, options) {
      checkName('openaiChatTool', conversation, toolCall.function.name);
      const r = await conversation.call(toolCall.function.arguments, options);
      return { role: 'tool', tool_call_id: toolCall.id, content: r.text };
    },
  };
}

/** Responses: `tools: [tool]`, and `input.push(await call(item))` for each `function_call` item of it. */
export function openaiResponsesTool(conversation: Conversation): {
  tool: OpenAIResponsesTool;
  call(item: OpenAIResponsesFunctionCall, options?: CellOptions): Promise<OpenAIResponsesFunctionCallOutput>;
} {
  const t = conversation.tool;
  return {
    tool: { type: 'function', name: t.name, description: t.description, parameters: t.inputSchema, strict: true },
    async call(item, options) {
      checkName('openaiResponsesTool', conversation, item.name);
      const r = await conversation.call(item.arguments, options);
      return { type: 'function_call_output', call_id: item.call_id, output: r.text };
    },
  };
}
