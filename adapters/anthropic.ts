// `run_python` for the Anthropic Messages API: plain objects, no import of the SDK.
// A cell that raised comes back as a `tool_result` with `is_error: true`.
// `call(block, { signal, onStdout, onStderr })` cancels the cell and streams its output.

import type { CellOptions, Conversation } from './code-mode.js';
import { checkName } from './openai.js';

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: { type: 'object'; [key: string]: unknown };
}
/** The part of a `tool_use` content block that is read. */
export interface AnthropicToolUse {
  id: string;
  name: string;
  input: unknown;
}
export interface AnthropicToolResult {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

/** `tools: [tool]`, and one `await call(block)` per `tool_use` block of it, sent back in a user message. */
export function anthropicTool(conversation: Conversation): {
  tool: AnthropicTool;
  call(block: AnthropicToolUse, options?: CellOptions): Promise<AnthropicToolResult>;
} {
  const t = conversation.tool;
  return {
    tool: { name: t.name, description: t.description, input_schema: t.inputSchema },
    async call(block, options) {
      checkName('anthropicTool', conversation, block.name);
      const r = await conversation.call(block.input, options);
      return { type: 'tool_result', tool_use_id: block.id, content: r.text, ...(r.ok ? {} : { is_error: true }) };
    },
  };
}
