import { describe, expect, it } from 'vitest';
import { CompileError } from './diagnostics.js';
import { loadToolsText } from './load.js';
import { normalize } from './normalize.js';

const schema = { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] };

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CompileError) return e.message;
    throw e;
  }
  throw new Error('expected a CompileError');
}

describe('load: detects every input shape', () => {
  const cases: [string, unknown, string][] = [
    ['OpenAI Chat Completions', [{ type: 'function', function: { name: 'search', description: 'd', parameters: schema, strict: true } }], 'openai-chat'],
    ['OpenAI Responses', [{ type: 'function', name: 'search', description: 'd', parameters: schema }], 'openai-responses'],
    ['Anthropic', [{ name: 'search', description: 'd', input_schema: schema }], 'anthropic'],
    ['MCP tools/list', { tools: [{ name: 'search', description: 'd', inputSchema: schema }] }, 'mcp'],
    ['bare MCP array', [{ name: 'search', inputSchema: schema }], 'mcp'],
    ['JSON-RPC response', { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'search', inputSchema: schema }] } }, 'mcp'],
    ['OpenAI wrapped in {tools}', { tools: [{ type: 'function', function: { name: 'search', parameters: schema } }] }, 'openai-chat'],
  ];
  it.each(cases)('%s', (_label, data, format) => {
    const loaded = loadToolsText('tools.json', JSON.stringify(data));
    expect(loaded.format).toBe(format);
    const { tools } = normalize(loaded);
    expect(tools.map((t) => [t.name, t.pyName])).toEqual([['search', 'search']]);
    expect(tools[0]!.inputSchema).toEqual(schema);
  });

  it('reads YAML', () => {
    const yaml = 'tools:\n  - name: search\n    description: Find things\n    inputSchema:\n      type: object\n      properties:\n        q: {type: string}\n';
    const { tools } = normalize(loadToolsText('tools.yaml', yaml));
    expect(tools[0]!.description).toBe('Find things');
  });

  it('gives OpenAI tools without parameters an empty argument object', () => {
    const { tools } = normalize(loadToolsText('t.json', JSON.stringify([{ type: 'function', function: { name: 'now' } }])));
    expect(tools[0]!.inputSchema).toEqual({ type: 'object', properties: {} });
  });
});

describe('load: bad input names the file and the place', () => {
  it('malformed JSON, with line and column', () => {
    expect(errorOf(() => loadToolsText('tools.json', '{\n  "tools": [\n    {"name": "a",}\n  ]\n}'))).toMatch(/^tools\.json: malformed JSON at line 3, column \d+/);
  });

  it('malformed YAML, with line', () => {
    expect(errorOf(() => loadToolsText('t.yaml', 'tools:\n  - name: [unclosed\n'))).toMatch(/^t\.yaml: malformed YAML at line \d+/);
  });

  it('an unknown top-level shape', () => {
    expect(errorOf(() => loadToolsText('x.json', '{"functions": []}'))).toMatch(/^x\.json: unknown shape: expected a list of tools/);
  });

  it('an unknown tool shape, at its index', () => {
    expect(errorOf(() => loadToolsText('x.json', '[{"title": "no name"}]'))).toMatch(/^x\.json: \[0\]: unknown tool shape/);
  });

  it('a tool of another shape than the first', () => {
    const data = { tools: [{ name: 'a', inputSchema: schema }, { name: 'b', input_schema: schema }] };
    expect(errorOf(() => loadToolsText('x.json', JSON.stringify(data)))).toBe(
      'x.json: tools[1]: expected a tool of the same shape as the first one (MCP tools/list), got Anthropic tools',
    );
  });
});

describe('normalize: errors name file, JSON path and tool', () => {
  const mcp = (tools: unknown[]) => () => normalize(loadToolsText('tools.json', JSON.stringify({ tools })));

  it('a misspelled type', () => {
    const tools = [0, 1, 2, 3].map((i) => ({
      name: `t${i}`,
      inputSchema: { type: 'object', properties: { limit: { type: i === 3 ? 'integr' : 'integer' } } },
    }));
    expect(errorOf(mcp(tools))).toBe(
      'tools.json: tools[3].inputSchema.properties.limit.type: expected a JSON Schema type (string, number, integer, boolean, object, array, null), got "integr" (tool "t3")',
    );
  });

  it('a tool without a name', () => {
    expect(errorOf(mcp([{ description: 'x', inputSchema: schema }]))).toBe('tools.json: tools[0].name: a tool needs a name (a non-empty string), got nothing');
  });

  it('an input schema that is not an object schema', () => {
    expect(errorOf(mcp([{ name: 'a', inputSchema: 'string' }]))).toBe('tools.json: tools[0].inputSchema: expected the input schema (a JSON Schema object), got "string" (tool "a")');
    expect(errorOf(mcp([{ name: 'a', inputSchema: { type: 'string' } }]))).toBe('tools.json: tools[0].inputSchema.type: tool arguments are an object: expected "object", got "string" (tool "a")');
  });

  it('malformed schema keywords, at their path', () => {
    expect(errorOf(mcp([{ name: 'a', inputSchema: { type: 'object', properties: [] } }]))).toBe(
      'tools.json: tools[0].inputSchema.properties: expected an object mapping names to schemas, got an array (tool "a")',
    );
    expect(errorOf(mcp([{ name: 'a', inputSchema: { type: 'object', properties: { x: { type: 'array', items: 5 } } } }]))).toBe(
      'tools.json: tools[0].inputSchema.properties.x.items: expected a JSON Schema (an object or a boolean), got 5 (tool "a")',
    );
    expect(errorOf(mcp([{ name: 'a', inputSchema: { type: 'object', required: 'q' } }]))).toBe(
      'tools.json: tools[0].inputSchema.required: expected an array of property names, got "q" (tool "a")',
    );
  });

  it('what only the meta-schema catches, through ajv', () => {
    expect(errorOf(mcp([{ name: 'a', inputSchema: { type: 'object', properties: { n: { type: 'integer', minimum: 'zero' } } } }]))).toMatch(
      /^tools\.json: tools\[0\]\.inputSchema\.properties\.n\.minimum: not a valid JSON Schema: must be number \(tool "a"\)$/,
    );
  });

  it('duplicate tool names', () => {
    expect(errorOf(mcp([{ name: 'a', inputSchema: schema }, { name: 'a', inputSchema: schema }]))).toBe(
      'tools.json: tools[1].name: duplicate tool name (first at tools[0]): the host could not tell them apart (tool "a")',
    );
  });

  it('reports every bad tool at once', () => {
    const msg = errorOf(mcp([{ inputSchema: schema }, { name: 'ok', inputSchema: schema }, { name: 'b', inputSchema: { type: 'object', properties: { x: { type: 'strng' } } } }]));
    expect(msg.split('\n')).toHaveLength(2);
  });
});
