// `run_python` for the Vercel AI SDK (`ai`, imported only when this is called). `execute`
// returns the structured result with its text (for programs and UIs); `toModelOutput`
// gives the model only the text.

import type { Tool } from 'ai';
import type { Conversation, RunPythonResult } from './code-mode.js';
import { importPeer } from './peer.js';

/** `generateText({ tools: { [conversation.tool.name]: await aiSdkTool(conversation) }, ... })` */
export async function aiSdkTool(conversation: Conversation): Promise<Tool<{ code: string }, RunPythonResult>> {
  const { tool, jsonSchema } = await importPeer('ai', 'aiSdkTool', () => import('ai'));
  const t = conversation.tool;
  return tool<{ code: string }, RunPythonResult, {}>({
    description: t.description,
    inputSchema: jsonSchema<{ code: string }>(t.inputSchema),
    execute: (input) => conversation.call(input),
    toModelOutput: ({ output }) => ({ type: output.ok ? 'text' : 'error-text', value: output.text }),
  });
}
