// `tic run DIR --handlers` and `tic repl` as a user runs them, on the bundled example.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Project } from 'ts-morph';
import { beforeAll, describe, expect, it } from 'vitest';
import { build } from '../compiler/build.js';
import { packageRoot } from '../runtime/package-root.js';
import { needsMore } from './session.js';

const example = join(packageRoot(), 'examples', 'issues');
let dist: string;
const tic = (args: string[], input?: string) =>
  spawnSync(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), ...args], { encoding: 'utf8', input, env: { ...process.env, TIC_CACHE_DIR: process.env.TIC_CACHE_DIR ?? '' } });

beforeAll(async () => {
  dist = join(mkdtempSync(join(tmpdir(), 'tic-cli-')), 'dist');
  await build({ inputs: [join(example, 'tools.json')], outDir: dist, log: () => {} });
});

describe('tic run DIR --handlers', () => {
  it('runs the bundled example against its TypeScript handlers', () => {
    const r = tic(['run', dist, join(example, 'triage.py'), '--handlers', join(example, 'handlers.ts')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe("240 open issues; labelled 16 unlabelled crashes as bug\nmost discussed: typo in module 4\n[('docs', 64), ('bug', 48)]\n");
    expect(r.status).toBe(0);
  });

  it('mirrors --workspace, and exits 1 with the traceback when a handler fails', () => {
    const ws = mkdtempSync(join(tmpdir(), 'tic-cli-ws-'));
    const handlers = join(ws, '..', `h-${Date.now()}.mjs`);
    writeFileSync(handlers, 'export default { "get-issue": ({ number }) => { throw new Error(`no issue #${number}`); } };\n');
    const r = tic(['run', dist, '--handlers', handlers, '--workspace', ws, '-c', 'open("note.txt", "w").write("hi")\ntools.get_issue("a/b", 7)']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('ToolError: no issue #7');
    expect(readFileSync(join(ws, 'note.txt'), 'utf8')).toBe('hi');
  });

  it('says clearly what is wrong with a handlers file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-cli-h-'));
    const bad = join(dir, 'bad.mjs');
    writeFileSync(bad, 'export const handlers = { list_issues: 5 };\n');
    const r = tic(['run', dist, '--handlers', bad, '-c', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`tic: ${bad}: handler "list_issues" is not a function\n`);
    const missing = tic(['run', dist, '--handlers', join(dir, 'nope.js'), '-c', '1']);
    expect(missing.stderr).toBe(`tic: ${join(dir, 'nope.js')}: no such file\n`);
    const noDir = tic(['run', '--handlers', bad, '-c', '1']);
    expect(noDir.stderr).toContain('--handlers, MCP servers and --workspace need the output folder of tic build first');
  });

  it('the example handlers type-check against the generated tools.d.ts', () => {
    const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true, module: 99, moduleResolution: 100, target: 9 } });
    project.createSourceFile('/x/dist/tools.d.ts', readFileSync(join(dist, 'tools.d.ts'), 'utf8'));
    project.createSourceFile('/x/handlers.ts', readFileSync(join(example, 'handlers.ts'), 'utf8'));
    const errors = project.getPreEmitDiagnostics().map((d) => String(d.getMessageText()));
    expect(errors).toEqual([]);
  });
});

describe('tic repl', () => {
  it('runs multi-line cells that share globals, reading from a pipe', () => {
    const input = ['def label_count(repo):', '    r = tools.list_issues(repo, per_page=100)', '    return len(r["issues"])', '', 'n = label_count("a/b")', 'n * 2', 'for i in range(2):', '    print("line", i)', '', '1/0', 'n'].join('\n');
    const r = tic(['repl', dist, '--handlers', join(example, 'handlers.ts')], `${input}\n`);
    expect(r.stdout).toContain('200\n');
    expect(r.stdout).toContain('line 0\nline 1\n');
    expect(r.stdout.trimEnd().endsWith('100')).toBe(true);
    expect(r.stderr).toContain('ZeroDivisionError: division by zero');
    expect(r.status).toBe(0);
  });
});

describe('needsMore (when the REPL asks for another line)', () => {
  it.each([
    ['x = 1', false],
    ['def f():', true],
    ['def f():\n    return 1', true],
    ['def f():\n    return 1\n', false],
    ['foo(1,', true],
    ['s = """abc', true],
    ['s = """abc\n"""', false],
    ['x = "a:" # c:', false],
    ['if x:  # comment', true],
    ['a = [1,\n 2]', false],
  ] as const)('%j -> %s', (source, more) => {
    expect(needsMore(source)).toBe(more);
  });
});

describe('an MCP server as the host (--mcp)', () => {
  it('lists its tools, builds them, and serves a cell\'s calls; its errors become ToolError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-mcp-'));
    const data = join(dir, 'data');
    const sub = join(data, 'a');
    spawnSync('mkdir', ['-p', sub]);
    writeFileSync(join(sub, 'x.txt'), 'hello invoice\n');
    const server = `node ${join(packageRoot(), 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js')} ${data}`;
    const listed = tic(['list-tools', '--mcp', server, '-o', join(dir, 'fs.json')]);
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, 'fs.json'), 'utf8')) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('read_text_file');
    await build({ inputs: [join(dir, 'fs.json')], outDir: join(dir, 'dist'), log: () => {} });
    const cell = `print(tools.search_files(${JSON.stringify(data)}, "**/*.txt")["content"])\ntry:\n    tools.read_text_file("/etc/passwd")\nexcept tools.ToolError as e:\n    print("refused:", "outside" in str(e) or "denied" in str(e).lower())\ntools.read_text_file(${JSON.stringify(join(sub, 'x.txt'))})["content"]`;
    const r = tic(['run', join(dir, 'dist'), '--mcp', server, '-c', cell]);
    expect(r.stdout).toBe(`${join(sub, 'x.txt')}\nrefused: True\n'hello invoice\\n'\n`);
    expect(r.status).toBe(0);
  });
});
