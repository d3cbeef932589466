import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../diagnostics.js';
import { loadToolsText } from '../load.js';
import { normalize } from '../normalize.js';
import { printType } from './model.js';
import { NameScope, SDK_RESERVED, identifier, pascalCase, snakeCase } from './names.js';
import { PythonTypes } from './schema-to-python.js';

/** Python signature and definitions of one tool with the given argument schema. */
function typesOf(inputSchema: Record<string, unknown>, outputSchema?: Record<string, unknown>) {
  const { tools } = normalize(loadToolsText('t.json', JSON.stringify({ tools: [{ name: 'probe', inputSchema, ...(outputSchema ? { outputSchema } : {}) }] })));
  const diags = new Diagnostics('t.json');
  const types = new PythonTypes(new NameScope([...SDK_RESERVED, 'probe'], true), diags);
  const sig = types.signature(tools[0]!);
  const params = Object.fromEntries(sig.params.map((p) => [p.key, printType(p.type)]));
  const defs = Object.fromEntries(
    types.definitions.map((d) => [d.name, d.kind === 'alias' ? printType(d.type) : d.fields.map((f) => `${f.key}${f.required ? '' : '?'}: ${printType(f.type)}`).join(', ')]),
  );
  return { sig, params, defs, result: printType(sig.result), warnings: diags.warnings.map((w) => `${w.path}: ${w.message}`) };
}
const arg = (schema: unknown) => typesOf({ type: 'object', properties: { a: schema } });

describe('JSON Schema -> Python types', () => {
  it.each([
    [{ type: 'string' }, 'str'],
    [{ type: 'string', format: 'date-time' }, 'str'],
    [{ type: 'integer' }, 'int'],
    [{ type: 'number' }, 'float'],
    [{ type: 'boolean' }, 'bool'],
    [{ type: 'null' }, 'None'],
    [{ type: ['string', 'null'] }, 'str | None'],
    [{ type: 'string', nullable: true }, 'str | None'],
    [{ enum: ['a', 'b', 1, true, null] }, 'Literal["a", "b", 1, True] | None'],
    [{ type: 'number', enum: [0.5, 1.5] }, 'float'],
    [{ const: 'fixed' }, 'Literal["fixed"]'],
    [{ type: 'array', items: { type: 'string' } }, 'list[str]'],
    [{ type: 'array' }, 'list[Any]'],
    [{ type: 'array', items: [{ type: 'string' }, { type: 'integer' }] }, 'list[str | int]'],
    [{ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] }, 'list[str | int]'],
    // The schema of the items after the prefix is part of the type.
    [{ type: 'array', prefixItems: [{ type: 'string' }], items: { type: 'boolean' } }, 'list[str | bool]'],
    [{ type: 'array', items: [{ type: 'string' }], additionalItems: { type: 'integer' } }, 'list[str | int]'],
    [{ type: 'array', prefixItems: [{ type: 'string' }], items: false }, 'list[str]'],
    [{ type: 'object' }, 'dict[str, Any]'],
    [{ type: 'object', additionalProperties: { type: 'integer' } }, 'dict[str, int]'],
    [{ anyOf: [{ type: 'string' }, { type: 'integer' }] }, 'str | int'],
    [{ oneOf: [{ type: 'string' }, { type: 'null' }] }, 'str | None'],
    [{ type: 'string', anyOf: [{ minLength: 1 }, { pattern: 'x' }] }, 'str'],
    [{ type: ['integer', 'string'], anyOf: [{ maxLength: 2 }] }, 'int | str'],
    [{}, 'Any'],
    [true, 'Any'],
    [{ description: 'no type at all' }, 'Any'],
  ])('%j -> %s', (schema, expected) => {
    expect(arg(schema).params.a).toBe(expected);
  });

  it('objects with properties become TypedDicts named after where they are', () => {
    const t = arg({ type: 'object', properties: { x: { type: 'integer' }, label: { type: 'string' } }, required: ['x'] });
    expect(t.params.a).toBe('A');
    expect(t.defs.A).toBe('x: int, label?: str');
  });

  it('uses a schema title for the name, and names array items in the singular', () => {
    expect(arg({ type: 'object', title: 'geo point', properties: { lat: { type: 'number' } } }).params.a).toBe('GeoPoint');
    expect(arg({ type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } }).params.a).toBe('list[AItem]');
    const t = typesOf({ type: 'object', properties: { entities: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } } } });
    expect(t.params.entities).toBe('list[Entity]');
  });

  it('qualifies a short name by its tool when the short one is taken', () => {
    const t = typesOf({ type: 'object', properties: { a: { type: 'object', properties: { x: { type: 'string' } } }, b: { type: 'object', properties: { a: { type: 'object', properties: { y: { type: 'integer' } } } } } } });
    expect(t.params).toEqual({ a: 'A', b: 'B' });
    expect(t.defs.B).toBe('a?: BA');
    expect(t.defs.BA).toBe('y?: int');
  });

  it('follows $ref to $defs and definitions, and types recursion by name', () => {
    const t = typesOf({
      type: 'object',
      properties: { tree: { $ref: '#/$defs/Node' }, tag: { $ref: '#/definitions/Tag' } },
      $defs: { Node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } } } },
      definitions: { Tag: { type: 'string', enum: ['x', 'y'] } },
    });
    expect(t.params).toEqual({ tree: 'Node', tag: 'Tag' });
    expect(t.defs.Node).toBe('value?: int, children?: list[Node]');
    expect(t.defs.Tag).toBe('Literal["x", "y"]');
  });

  it('types a recursive non-object alias', () => {
    const t = typesOf({
      type: 'object',
      properties: { v: { $ref: '#/$defs/Json' } },
      $defs: { Json: { anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'array', items: { $ref: '#/$defs/Json' } }] } },
    });
    expect(t.defs.Json).toBe('str | float | list[Json]');
  });

  it('merges allOf of objects', () => {
    const t = arg({ allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { type: 'object', properties: { b: { type: 'integer' } } }] });
    expect(t.defs[t.params.a!]).toBe('a: str, b?: int');
  });

  it('shares one TypedDict between identical shapes', () => {
    const entity = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const t = typesOf({ type: 'object', properties: { one: entity, many: { type: 'array', items: entity } } }, { type: 'object', properties: { found: { type: 'array', items: entity } } });
    expect(t.params).toEqual({ one: 'One', many: 'list[One]' });
    expect(t.result).toBe('ProbeResult');
    expect(t.defs.ProbeResult).toBe('found?: list[One]');
    expect(Object.keys(t.defs)).toHaveLength(2);
  });

  it('degrades what it cannot follow to Any with a warning naming the place', () => {
    const t = arg({ $ref: 'https://example.com/schema.json' });
    expect(t.params.a).toBe('Any');
    expect(t.warnings).toEqual(['tools[0].inputSchema.properties.a.$ref: only references inside the schema are followed; "https://example.com/schema.json" is typed as Any']);
    expect(arg({ $ref: '#/$defs/Missing' }).warnings[0]).toMatch(/points to nothing in this schema/);
  });

  it('orders required parameters first and keeps schema defaults', () => {
    const t = typesOf({ type: 'object', properties: { limit: { type: 'integer', default: 10 }, q: { type: 'string' }, mode: { enum: ['a', 'b'], default: 'a' } }, required: ['q'] });
    expect(t.sig.params.map((p) => [p.key, p.required, p.default])).toEqual([
      ['q', true, undefined],
      ['limit', false, '10'],
      ['mode', false, '"a"'],
    ]);
  });

  it('offers the properties of alternative argument sets as optional parameters', () => {
    const t = typesOf({ type: 'object', oneOf: [{ properties: { id: { type: 'string' } }, required: ['id'] }, { properties: { name: { type: 'string' } }, required: ['name'] }] });
    expect(t.sig.params.map((p) => [p.key, p.required])).toEqual([['id', false], ['name', false]]);
    expect(t.warnings[0]).toMatch(/alternative argument sets/);
  });
});

describe('Python names', () => {
  it('snake_cases tool names and PascalCases type names', () => {
    expect(snakeCase('getUserByID')).toBe('get_user_by_id');
    expect(identifier('list-files.v2', 'snake')).toBe('list_files_v2');
    expect(identifier('2fa-check', 'snake')).toBe('n2fa_check');
    expect(identifier('naïve', 'keep')).toBe('naive');
    expect(pascalCase('create-entities item')).toBe('CreateEntitiesItem');
  });

  it('avoids keywords, builtins and SDK names, and never hands out one name twice', () => {
    const scope = new NameScope(SDK_RESERVED, true);
    expect(['class', 'list', 'aio', 'search_tools', 'list', 'x', 'x'].map((n) => scope.allocate(n))).toEqual(['class_', 'list_', 'aio_', 'search_tools_', 'list_2', 'x', 'x_']);
  });
});
