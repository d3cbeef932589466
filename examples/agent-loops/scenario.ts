// The task every agent-loop example runs, whatever the framework: a real filesystem MCP
// server (@modelcontextprotocol/server-filesystem) on a generated tree of 80 text files,
// and "which files mention invoice?". The scripted model runs two cells (the second uses
// the first one's globals, as a conversation's session keeps them), then answers with
// what it read. The same task by direct tool calls is counted from real results too.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectedSummary, makeTree } from '../../benchmarks/workflow.js';
import { build } from '../../compiler/build.js';
import { type CodeMode, codeMode } from '../../adapters/code-mode.js';
import { connectMcpServer } from '../../runtime/mcp.js';
import { packageRoot } from '../../runtime/package-root.js';
import { Script } from '../shared/scripted-model.js';
import { compare, Transcript } from '../shared/transcript.js';
import { mcpText } from '../shared/main.js';

export interface Scenario {
  task: string;
  script: Script;
  codeMode: CodeMode;
  /** Checks the answer, counts both ways, and stops the server; the lines to print. */
  finish(answer: string): Promise<{ lines: string[]; ratio: number }>;
}

export async function filesystemScenario(framework: string): Promise<Scenario> {
  const work = mkdtempSync(join(tmpdir(), 'tic-agent-loop-'));
  const tree = join(work, 'tree');
  makeTree(tree);
  const server = join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
  const mcp = await connectMcpServer([process.execPath, server, tree], { stderr: 'ignore' }).catch((err: unknown) => {
    rmSync(work, { recursive: true, force: true });
    throw err;
  });
  let cm: CodeMode;
  try {
    writeFileSync(join(work, 'filesystem.json'), JSON.stringify(mcp.tools));
    await build({ inputs: [join(work, 'filesystem.json')], outDir: join(work, 'dist'), log: () => {} });
    cm = await codeMode({ dir: join(work, 'dist'), handlers: mcp.handlers, warm: 0 });
  } catch (err) {
    await mcp.close();
    rmSync(work, { recursive: true, force: true });
    throw err;
  }

  const task = `Which text files under ${tree} mention "invoice"? Give the count and the files that mention it most.`;
  const find = `paths = tools.search_files(${JSON.stringify(tree)}, "**/*.txt")["content"].splitlines()\nprint(len(paths), "files, e.g.", paths[0])`;
  const count = `import re
hits = {}
for p in paths:  # from the previous cell
    n = len(re.findall(r"\\binvoice\\b", tools.read_text_file(p)["content"], re.I))
    if n:
        hits[p.removeprefix(${JSON.stringify(tree)} + "/")] = n
print(f"{len(hits)} of {len(paths)} files mention 'invoice' ({sum(hits.values())} times); most:")
for p, n in sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))[:5]:
    print(f"  {n}  {p}")`;
  const script = new Script([{ code: find }, { code: count }, { answer: (last) => `Here is what I found:\n${last}` }]);

  return {
    task,
    script,
    codeMode: cm,
    async finish(answer) {
      try {
        const expected = expectedSummary(tree);
        if (!answer.includes(expected)) throw new Error(`${framework}: the answer does not say "${expected}":\n${answer}`);
        if (script.toolResults.length !== 2) throw new Error(`${framework}: the model read ${script.toolResults.length} tool results, expected 2`);

        // Code mode: exactly what went through the conversation.
        const t = cm.tool;
        const codeModeT = new Transcript([{ name: t.name, description: t.description, parameters: t.inputSchema }]).user(task);
        script.steps.forEach((s, i) => {
          if ('code' in s) codeModeT.assistant([{ name: t.name, arguments: { code: s.code } }]).tool(script.toolResults[i]!);
        });
        codeModeT.assistant(answer);

        // Direct calls: list the files, read them all in one call, answer the same.
        const directT = new Transcript(mcp.tools.tools.map((x) => ({ name: x.name, description: x.description, parameters: x.inputSchema }))).user(task);
        const listArgs = { path: tree, pattern: '**/*.txt' };
        const listed = mcpText(await mcp.handlers.search_files!(listArgs));
        directT.assistant([{ name: 'search_files', arguments: listArgs }]).tool(listed);
        const readArgs = { paths: listed.split('\n').filter(Boolean) };
        directT.assistant([{ name: 'read_multiple_files', arguments: readArgs }]).tool(mcpText(await mcp.handlers.read_multiple_files!(readArgs)));
        directT.assistant(answer);

        const { lines, ratio } = compare(codeModeT, directT);
        return { ratio, lines: [`${framework}: the model's answer`, answer, '', ...lines] };
      } finally {
        await cm.close();
        await mcp.close();
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
