// An agent with LangChain's createAgent and code mode, against a scripted model: LangChain's
// own fake chat model (`fakeModel()` from `@langchain/core/testing`) answering from the
// script with real AIMessage tool calls; no network. The cell's output streams as tool
// events (`streamMode: "tools"`), counted here.
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { fakeModel } from '@langchain/core/testing';
import { createAgent } from 'langchain';
import { langchainTool } from '../../adapters/langchain.js';
import { runMain } from '../shared/main.js';
import type { Script } from '../shared/scripted-model.js';
import { filesystemScenario } from './scenario.js';

/** The script as a LangChain chat model: one queued answer per step, read from the messages it is sent. */
function scriptedModel(script: Script, offered: Record<string, string>) {
  const model = fakeModel();
  for (let i = 0; i < script.steps.length; i++) {
    model.respond((messages) => {
      const last = messages.at(-1);
      const turn = script.turn(last && ToolMessage.isInstance(last) ? String(last.content) : undefined, offered);
      return 'code' in turn
        ? new AIMessage({ content: '', tool_calls: [{ id: turn.id, name: script.toolName, args: { code: turn.code }, type: 'tool_call' }] })
        : new AIMessage(turn.answer);
    });
  }
  return model;
}

export async function main() {
  const s = await filesystemScenario('LangChain');
  const conversation = s.codeMode.conversation();
  try {
    const runPython = await langchainTool(conversation);
    const agent = createAgent({ model: scriptedModel(s.script, { [runPython.name]: runPython.description }), tools: [runPython] });
    let answer = '';
    let outputEvents = 0;
    // "values" gives the state after each step, "tools" the cell's output as it is printed.
    for await (const [mode, chunk] of await agent.stream({ messages: [{ role: 'user', content: s.task }] }, { streamMode: ['values', 'tools'], recursionLimit: 10 })) {
      if (mode === 'tools' && (chunk as { event: string }).event === 'on_tool_event') outputEvents++;
      if (mode === 'values') answer = String((chunk as { messages: { content: unknown }[] }).messages.at(-1)?.content ?? '');
    }
    const r = await s.finish(answer);
    return { ...r, lines: [...r.lines, `(${outputEvents} output chunks streamed as tool events)`] };
  } finally {
    await conversation.close();
  }
}

runMain(import.meta.url, main);
