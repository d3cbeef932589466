// `run_python` for the Vercel AI SDK (`ai`, imported only when this is called). `execute`
// returns the structured result (for programs and UIs); `toModelOutput` gives the model
// the short text.

import type { Tool } from 'ai';
import type { Conversation } from './code-mode.js';
import { importPeer } from './peer.js';
import { type RunPythonResult, resultText } from './result.js';

/** `generateText({ tools: { [conversation.tool.name]: await aiSdkTool(conversation) }, ... })` */
export async function aiSdkTool(conversation: Conversation): Promise<Tool<{ code: string }, RunPythonResult>> {
  const { tool, jsonSchema } = await importPeer('ai', 'aiSdkTool', () => import('ai'));
  const t = conversation.tool;
  return tool<{ code: string }, RunPythonResult, {}>({
    description: t.description,
    inputSchema: jsonSchema<{ code: string }>(t.inputSchema),
    execute: async (input) => {
      const { text: _text, ...result } = await conversation.call(input);
      return result;
    },
    toModelOutput: ({ output }) => ({ type: output.ok ? 'text' : 'error-text', value: resultText(output) }),
  });
}
