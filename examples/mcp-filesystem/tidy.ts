// Code mode over a real MCP server, no framework: @modelcontextprotocol/server-filesystem
// on a generated tree (benchmarks/workflow.ts makes it). One cell finds the files that
// mention "invoice", moves them into invoices/ and writes an index, all through the
// server's tools. The same task by direct tool calls runs on an identical second tree,
// so its tool results are real too; both trees must end up the same.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { codeMode } from '../../adapters/code-mode.js';
import { makeTree } from '../../benchmarks/workflow.js';
import { build } from '../../compiler/build.js';
import { connectMcpServer } from '../../runtime/mcp.js';
import { packageRoot } from '../../runtime/package-root.js';
import { mcpText, runMain } from '../shared/main.js';
import { compare, Transcript } from '../shared/transcript.js';

const cell = (root: string) => `import re
root = ${JSON.stringify(root)}
paths = tools.search_files(root, "**/*.txt")["content"].splitlines()
tools.create_directory(root + "/invoices")
moved = []
for p in paths:
    n = len(re.findall(r"\\binvoice\\b", tools.read_text_file(p)["content"], re.I))
    if n:
        dept, name = p.split("/")[-2:]
        tools.move_file(p, f"{root}/invoices/{dept}-{name}")
        moved.append((n, f"{dept}-{name}"))
moved.sort(key=lambda m: (-m[0], m[1]))
tools.write_file(root + "/invoices/INDEX.md", "# Files that mention invoice\\n" + "".join(f"- {name}: {n}\\n" for n, name in moved))
print(f"moved {len(moved)} of {len(paths)} files into invoices/ (INDEX.md lists them); most mentions: {moved[0][1]} ({moved[0][0]})")`;

/** Every file under `root` with its text, relative paths sorted. */
function snapshot(root: string, rel = ''): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? snapshot(root, join(rel, e.name)) : [`${join(rel, e.name)}\n${readFileSync(join(root, rel, e.name), 'utf8')}`]))
    .sort();
}

export async function main() {
  const work = mkdtempSync(join(tmpdir(), 'tic-fs-example-'));
  const [codeTree, directTree] = [join(work, 'a', 'tree'), join(work, 'b', 'tree')];
  makeTree(codeTree);
  makeTree(directTree);
  const server = join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js');
  const mcp = await connectMcpServer([process.execPath, server, codeTree, directTree], { stderr: 'ignore' });
  try {
    writeFileSync(join(work, 'filesystem.json'), JSON.stringify(mcp.tools));
    await build({ inputs: [join(work, 'filesystem.json')], outDir: join(work, 'dist'), log: () => {} });
    const task = `Move every file under ${codeTree} that mentions "invoice" into invoices/ (named <folder>-<file>) and write invoices/INDEX.md listing them, most mentions first.`;

    // Code mode: one cell.
    const cm = await codeMode({ dir: join(work, 'dist'), handlers: mcp.handlers, warm: 0 });
    const conversation = cm.conversation();
    const code = cell(codeTree);
    const r = await conversation.run(code);
    await cm.close();
    if (!r.ok) throw new Error(`the cell failed:\n${r.text}`);
    const answer = `Done: ${r.text}`;
    const t = cm.tool;
    const codeModeT = new Transcript([{ name: t.name, description: t.description, parameters: t.inputSchema }])
      .user(task)
      .assistant([{ name: t.name, arguments: { code } }])
      .tool(r.text)
      .assistant(answer);

    // Direct calls on the twin tree: list, read all, then the moves and the index in parallel calls.
    const call = async (name: string, args: Record<string, unknown>) => mcpText(await mcp.handlers[name]!(args));
    const directT = new Transcript(mcp.tools.tools.map((x) => ({ name: x.name, description: x.description, parameters: x.inputSchema }))).user(task.replace(codeTree, directTree));
    const listArgs = { path: directTree, pattern: '**/*.txt' };
    const listed = await call('search_files', listArgs);
    directT.assistant([{ name: 'search_files', arguments: listArgs }]).tool(listed);
    const paths = listed.split('\n').filter(Boolean);
    directT.assistant([{ name: 'read_multiple_files', arguments: { paths } }]).tool(await call('read_multiple_files', { paths }));
    // What the model would work out from the files it read.
    const moved = paths
      .map((p) => ({ p, n: (readFileSync(p, 'utf8').match(/\binvoice\b/gi) ?? []).length, name: p.split('/').slice(-2).join('-') }))
      .filter((m) => m.n)
      .sort((a, b) => b.n - a.n || (a.name < b.name ? -1 : 1));
    const mkdir = { path: `${directTree}/invoices` };
    directT.assistant([{ name: 'create_directory', arguments: mkdir }]).tool(await call('create_directory', mkdir));
    const moves = moved.map((m) => ({ name: 'move_file', arguments: { source: m.p, destination: `${directTree}/invoices/${m.name}` } }));
    directT.assistant(moves);
    for (const m of moves) directT.tool(await call(m.name, m.arguments));
    const index = { path: `${directTree}/invoices/INDEX.md`, content: `# Files that mention invoice\n${moved.map((m) => `- ${m.name}: ${m.n}\n`).join('')}` };
    directT.assistant([{ name: 'write_file', arguments: index }]).tool(await call('write_file', index));
    directT.assistant(answer);

    // Both ways did the same thing.
    if (snapshot(codeTree).join('\n') !== snapshot(directTree).join('\n')) throw new Error('code mode and the direct calls left different trees');
    if (!existsSync(join(codeTree, 'invoices', 'INDEX.md'))) throw new Error('no invoices/INDEX.md');
    const { lines, ratio } = compare(codeModeT, directT);
    return { ratio, moved: moved.length, answer, lines: [answer, '', ...lines] };
  } finally {
    await mcp.close();
    rmSync(work, { recursive: true, force: true });
  }
}

runMain(import.meta.url, main);
