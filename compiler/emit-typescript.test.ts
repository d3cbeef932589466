import { Project } from 'ts-morph';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, FIXTURES_DIR } from '../test-setup/sdk.js';
import { emitTypeScript } from './emit-typescript.js';
import { loadToolsFile, loadToolsText } from './load.js';
import { normalize } from './normalize.js';

/** Type errors of `code` compiled against the generated declarations. */
function typeErrors(dts: string, code: string): string[] {
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true } });
  project.createSourceFile('tools.d.ts', dts);
  project.createSourceFile('host.ts', code);
  return project.getPreEmitDiagnostics().map((d) => {
    const m = d.getMessageText();
    return `${d.getSourceFile()?.getBaseName()}: ${(typeof m === 'string' ? m : m.getMessageText()).split('\n')[0]}`;
  });
}

describe('tools.d.ts', () => {
  it.each(FIXTURES)('%s compiles in strict TypeScript', async (name) => {
    const { tools } = normalize(loadToolsFile(join(FIXTURES_DIR, `${name}.json`)));
    const dts = await emitTypeScript(tools, { version: '0' });
    expect(typeErrors(dts, 'import type { ToolHandlers } from "./tools";\nexport type H = ToolHandlers;\n')).toEqual([]);
  });

  it('types handlers by original tool name: right handlers pass, a wrong one is reported', async () => {
    const data = {
      tools: [
        { name: 'get-user', inputSchema: { type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] }, outputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
        { name: 'ping', inputSchema: { type: 'object', properties: {} } },
      ],
    };
    const dts = await emitTypeScript(normalize(loadToolsText('t.json', JSON.stringify(data))).tools, { version: '0' });
    const ok = 'import type { ToolHandlers } from "./tools";\nexport const h: ToolHandlers = {\n  "get-user": async (args) => ({ name: String(args.id + 1) }),\n  ping: () => "pong",\n};\n';
    expect(typeErrors(dts, ok)).toEqual([]);
    const bad = 'import type { ToolHandlers } from "./tools";\nexport const h: ToolHandlers = {\n  "get-user": (args) => ({ name: args.id }),\n  ping: () => 1,\n};\n';
    expect(typeErrors(dts, bad).join('\n')).toMatch(/Type 'number' is not assignable to type 'string'/);
  });
});

describe('references json-schema-to-typescript cannot follow by itself', () => {
  it('types $defs below the root, percent-encoded pointers, a definition named $ref and recursion', async () => {
    const data = {
      tools: [{
        name: 'tree',
        inputSchema: {
          type: 'object',
          properties: {
            node: { $ref: '#/properties/wrapper/$defs/Node' },
            tag: { $ref: '#/$defs/%24ref' },
            remote: { $ref: 'https://example.com/schema.json' },
            wrapper: {
              type: 'object',
              properties: { n: { $ref: '#/properties/wrapper/$defs/Node' } },
              $defs: { Node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/properties/wrapper/$defs/Node' } } }, required: ['value'] } },
            },
          },
          required: ['node', 'tag'],
          $defs: { $ref: { type: 'string', enum: ['a', 'b'] } },
        },
      }],
    };
    const dts = await emitTypeScript(normalize(loadToolsText('t.json', JSON.stringify(data))).tools, { version: '0' });
    const ok = 'import type { ToolHandlers } from "./tools";\nexport const h: ToolHandlers = {\n  tree: (args) => { const v: number = args.node.value + (args.node.children?.[0]?.value ?? 0); const t: "a" | "b" = args.tag; return [v, t]; },\n};\n';
    expect(typeErrors(dts, ok)).toEqual([]);
    const bad = 'import type { ToolHandlers } from "./tools";\nexport const h: ToolHandlers = {\n  tree: (args) => { const t: "c" = args.tag; const s: string = args.node.value; return [t, s]; },\n};\n';
    expect(typeErrors(dts, bad).join('\n')).toMatch(/not assignable to type '"c"'[\s\S]*'number' is not assignable to type 'string'/);
  });
});

describe('namespaced builds', () => {
  it('key handlers by namespace.name, so two files may share a tool name', async () => {
    const a = normalize(loadToolsText('a.json', JSON.stringify({ tools: [{ name: 'search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } }] })), { namespace: 'a' }).tools;
    const b = normalize(loadToolsText('b.json', JSON.stringify({ tools: [{ name: 'search', inputSchema: { type: 'object', properties: { n: { type: 'integer' } } } }] })), { namespace: 'b' }).tools;
    const dts = await emitTypeScript([...a, ...b], { version: '0' });
    const ok = 'import type { ToolHandlers } from "./tools";\nexport const h: ToolHandlers = {\n  "a.search": ({ q }) => q ?? "",\n  "b.search": ({ n }) => (n ?? 0) + 1,\n};\n';
    expect(typeErrors(dts, ok)).toEqual([]);
  });
});
