import { describe, expect, it } from 'vitest';
import { main as aiSdk } from './ai-sdk.js';
import { main as anthropic } from './anthropic.js';
import { main as langchain } from './langchain.js';
import { main as mastra } from './mastra.js';
import { main as openaiAgents } from './openai-agents.js';
import { main as openaiChat } from './openai-chat.js';
import { main as openaiResponses } from './openai-responses.js';

// Each loop checks its own answer against the tree (scenario.ts) and throws when wrong;
// here: it ran two cells through the framework, and code mode cost less than direct calls.
describe.each([
  ['OpenAI Chat Completions', openaiChat],
  ['OpenAI Responses', openaiResponses],
  ['Anthropic Messages', anthropic],
  ['Vercel AI SDK', aiSdk],
  ['OpenAI Agents SDK', openaiAgents],
  ['LangChain', langchain],
  ['Mastra', mastra],
])('the %s agent loop', (name, main) => {
  it('answers from two cells of one session and prints the token comparison', async () => {
    const r = await main();
    expect(r.lines[0]).toBe(`${name}: the model's answer`);
    expect(r.lines.join('\n')).toMatch(/\d+ of 80 files mention 'invoice' \(\d+ times\); most:/);
    expect(r.lines.join('\n')).toMatch(/^code mode used \d+\.\d% of the tokens of direct tool calls$/m);
    expect(r.ratio).toBeLessThan(0.25);
  }, 300_000);
});
