// A multi-step workflow over a real MCP server from npm (@modelcontextprotocol/server-
// filesystem), counted both ways. The task: find the files of a generated tree that
// mention "invoice" and report counts. The transcripts are fixed scripts, not a model:
//
// - direct tool calling: the tool definitions, then every call's arguments and its full
//   result enter the context (the calls are exactly the ones the code-mode cell made);
// - code mode: the `run_python` tool, prompt.md, the cell, and what the cell prints.
//
// The cell really runs: in a tooliscode session whose handlers forward to the server.

import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { build } from '../compiler/build.js';
import { loadGuest } from '../runtime/guest.js';
import { packageRoot } from '../runtime/package-root.js';
import { connectMcpServer } from '../runtime/mcp.js';
import type { Handlers } from '../runtime/session.js';

const WORDS = ['report', 'quarter', 'customer', 'shipment', 'ledger', 'payment', 'review', 'draft', 'meeting', 'budget', 'vendor', 'contract'];

/** A deterministic tree: 8 folders x 10 files x 40 lines; about one file in three mentions the word. */
export function makeTree(root: string): void {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let d = 0; d < 8; d++) {
    mkdirSync(join(root, `dept-${d}`), { recursive: true });
    for (let f = 0; f < 10; f++) {
      const mentions = rnd() < 0.35;
      const lines = Array.from({ length: 40 }, (_, i) => {
        const words = Array.from({ length: 9 }, () => WORDS[Math.floor(rnd() * WORDS.length)]!);
        if (mentions && rnd() < 0.15) words[Math.floor(rnd() * words.length)] = 'invoice';
        return `${i + 1}. ${words.join(' ')}.`;
      });
      writeFileSync(join(root, `dept-${d}`, `notes-${f}.txt`), `${lines.join('\n')}\n`);
    }
  }
}

/** The first line of a right answer, computed on the host, so a wrong cell cannot pass for a cheap one. */
export function expectedSummary(tree: string): string {
  let files = 0;
  let filesWith = 0;
  let mentions = 0;
  for (const d of readdirSync(tree)) {
    for (const f of readdirSync(join(tree, d))) {
      const n = (readFileSync(join(tree, d, f), 'utf8').match(/\binvoice\b/gi) ?? []).length;
      files++;
      if (n) filesWith++;
      mentions += n;
    }
  }
  return `${filesWith} of ${files} files mention 'invoice' (${mentions} times)`;
}

export const cell = (root: string) => `import re
root = ${JSON.stringify(root)}
paths = tools.search_files(root, "**/*.txt")["content"].splitlines()
hits = {}
for p in paths:
    n = len(re.findall(r"\\binvoice\\b", tools.read_text_file(p)["content"], re.I))
    if n:
        hits[p.removeprefix(root + "/")] = n
print(f"{len(hits)} of {len(paths)} files mention 'invoice' ({sum(hits.values())} times); most:")
for p, n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
    print(f"  {n}  {p}")`;

const RUN_PYTHON_TOOL = {
  name: 'run_python',
  description: 'Run a cell of Python in the sandbox; returns what it prints and its last value.',
  input_schema: { type: 'object', properties: { code: { type: 'string' } }, required: ['code'] },
};

export interface WorkflowResult {
  files: number;
  calls: number;
  directTokens: number;
  codeModeTokens: number;
  ratio: number;
  output: string;
  markdown: string[];
}

export async function workflow(log: (line: string) => void = () => {}): Promise<WorkflowResult> {
  log('workflow: a real MCP filesystem server on a generated tree, direct vs code mode');
  const work = mkdtempSync(join(tmpdir(), 'tic-workflow-'));
  const tree = join(work, 'tree');
  makeTree(tree);
  const server = join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
  const mcp = await connectMcpServer([process.execPath, server, tree], { stderr: 'ignore' });
  try {
    const listed = mcp.tools;
    writeFileSync(join(work, 'filesystem.json'), JSON.stringify(listed));
    await build({ inputs: [join(work, 'filesystem.json')], outDir: join(work, 'dist'), log: () => {} });
    const prompt = readFileSync(join(work, 'dist', 'prompt.md'), 'utf8');

    // Every call the cell makes, with the full result text the model would have read.
    const seen: { name: string; args: unknown; text: string }[] = [];
    const handlers: Handlers = {};
    for (const [name, forward] of Object.entries(mcp.handlers)) {
      handlers[name] = async (args: Record<string, unknown>) => {
        const r = (await forward(args)) as { content?: { type: string; text?: string }[] };
        seen.push({ name, args, text: (r.content ?? []).map((c) => c.text ?? JSON.stringify(c)).join('\n') });
        return r;
      };
    }
    const guest = await loadGuest(join(work, 'dist'), { warm: 0 });
    const session = await guest.createSession({ handlers, limits: { timeoutMs: 60_000 } });
    const code = cell(tree);
    const r = await session.run(code);
    await session.close();
    if (!r.ok) throw new Error(`the workflow cell failed: ${r.error?.traceback}`);
    if (!r.stdout.startsWith(expectedSummary(tree))) throw new Error(`the workflow cell answered wrong: ${r.stdout}`);

    const tokens = (s: string) => encode(s).length;
    const toolDefs = JSON.stringify(listed.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema })));
    const answer = r.stdout; // the final answer is the same summary either way
    const directTokens = tokens(toolDefs) + seen.reduce((n, c) => n + tokens(JSON.stringify({ name: c.name, arguments: c.args })) + tokens(c.text), 0) + tokens(answer);
    const codeModeTokens = tokens(JSON.stringify(RUN_PYTHON_TOOL)) + tokens(prompt) + tokens(JSON.stringify({ name: 'run_python', arguments: { code } })) + tokens(r.stdout) + tokens(answer);
    const ratio = codeModeTokens / directTokens;
    const files = seen.filter((c) => c.name === 'read_text_file').length;
    return {
      files,
      calls: seen.length,
      directTokens,
      codeModeTokens,
      ratio,
      output: r.stdout,
      markdown: [
        '### A multi-step workflow over a real MCP server',
        '',
        `\`@modelcontextprotocol/server-filesystem\` from npm, on a generated tree of ${files} text files (8 folders, 40 lines each). Task: find the files that mention "invoice" and report counts. Both transcripts are fixed scripts, not a model. Direct tool calling puts the tool definitions, each call's arguments and each full result into the context (${seen.length} calls: the same ones the cell made). Code mode puts the \`run_python\` tool, \`prompt.md\`, the cell and what it printed. The cell ran for real, its tool calls forwarded to the server:`,
        '',
        '```',
        r.stdout.trimEnd(),
        '```',
        '',
        '| transcript | tokens (o200k) |',
        '| --- | ---: |',
        `| direct tool calling | ${directTokens} |`,
        `| code mode | ${codeModeTokens} |`,
        `| code mode / direct | ${(ratio * 100).toFixed(1)}% |`,
        '',
        'Target: a large-result workflow <= 5% of direct tool calling.',
      ],
    };
  } finally {
    await mcp.close();
    rmSync(work, { recursive: true, force: true });
  }
}
