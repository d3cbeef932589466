// The host side of calls without a guest: argument checks (formats included), output
// schema checks, and how handler results become replies.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emitValidators } from '../compiler/emit-validators.js';
import { type ToolSpec, ToolTable, toReply } from './tools.js';
import { type PrebuiltLookup, prebuiltValidators, VALIDATORS_FILE } from './validators.js';

const tool = (extra: Partial<ToolSpec>): ToolSpec => ({ name: 't', pyName: 't', inputSchema: { type: 'object' }, ...extra });

// Every check runs twice: compiled by ajv at run time, and as tic build writes it ahead
// (validators.cjs, compiler/emit-validators.ts); the second must be used, and agree.
const MODES: [string, (tools: ToolSpec[]) => ToolTable][] = [
  ['compiled at run time', (tools) => new ToolTable(tools)],
  ['prebuilt by tic build', (tools) => new ToolTable(tools, prebuiltOnly(tools))],
];

/** The prebuilt checks of `tools`, from a validators.cjs written for them; a check it lacks fails the test. */
function prebuiltOnly(tools: ToolSpec[]): PrebuiltLookup {
  const dir = mkdtempSync(join(tmpdir(), 'tic-validators-'));
  writeFileSync(join(dir, VALIDATORS_FILE), emitValidators(tools, 'test'));
  const lookup = prebuiltValidators(dir, (m) => {
    throw new Error(m);
  })!;
  return (kind, index, schema) => {
    const found = lookup(kind, index, schema);
    if (!found) throw new Error(`no prebuilt check ${kind}${index}`);
    return found;
  };
}

describe.each(MODES)('%s:', (_mode, makeTable) => {
  describe('argument checks', () => {
    const when = tool({ inputSchema: { type: 'object', properties: { when: { type: 'string', format: 'date-time' }, mail: { type: 'string', format: 'email' }, odd: { type: 'string', format: 'no-such-format' } } } });
    const table = makeTable([when]);

    it('check known formats and name the argument', () => {
      expect(() => table.check(when, { when: '2026-12-02T13:00:00Z', mail: 'a@b.org' })).not.toThrow();
      expect(() => table.check(when, { when: 'yesterday' })).toThrow(/t\(\): argument "when" must match format "date-time" \(format\)/);
      expect(() => table.check(when, { mail: 'not an address' })).toThrow(/argument "mail" must match format "email"/);
    });

    it('take an unknown format as documentation', () => {
      expect(() => table.check(when, { odd: 'anything' })).not.toThrow();
    });

    it('check formats in 2020-12 schemas too', () => {
      const t = tool({ inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } });
      expect(() => makeTable([t]).check(t, { id: 'nope' })).toThrow(/argument "id" must match format "uuid"/);
    });
  });

  describe('a $ref the checker cannot resolve', () => {
    const n = { type: 'integer' };
    it.each([
      ['external', { $ref: 'https://example.com/schema.json' }],
      ['dangling', { $ref: '#/$defs/Missing' }],
      ['to a missing anchor', { $ref: '#nowhere' }],
    ])('%s: checks nothing there, and every other argument still', (_kind, ref) => {
      const t = tool({ inputSchema: { type: 'object', properties: { n, x: ref } } });
      const table = makeTable([t]);
      expect(() => table.check(t, { n: 'not a number' })).toThrow('t(): argument "n" must be integer');
      expect(() => table.check(t, { n: 1, x: { anything: [1] } })).not.toThrow();
    });

    it('keeps the refs it can resolve: pointers, anchors, and the root $id in front', () => {
      const schema = {
        $id: 'https://example.com/root.json',
        type: 'object',
        $defs: { Pos: { type: 'integer', minimum: 1 }, Named: { $anchor: 'named', type: 'string' } },
        properties: { a: { $ref: '#/$defs/Pos' }, b: { $ref: '#named' }, c: { $ref: 'https://example.com/root.json#/$defs/Pos' }, d: { $ref: '#' } },
      };
      const t = tool({ inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema } });
      const table = makeTable([t]);
      expect(() => table.check(t, { a: 0 })).toThrow(/argument "a" must be >= 1/);
      expect(() => table.check(t, { b: 5 })).toThrow(/argument "b" must be string/);
      expect(() => table.check(t, { c: 0 })).toThrow(/argument "c" must be >= 1/);
      expect(() => table.check(t, { d: { a: 0 } })).toThrow(/argument "d"\.a must be >= 1/);
    });

    it('leaves data alone: a "$ref" key inside const or enum is a value, not a reference', () => {
      const t = tool({ inputSchema: { type: 'object', properties: { k: { const: { $ref: '#/nowhere' } }, n } } });
      const table = makeTable([t]);
      expect(() => table.check(t, { k: { $ref: '#/nowhere' } })).not.toThrow();
      expect(() => table.check(t, { k: {} })).toThrow(/argument "k" must be/);
    });
  });

  describe('output schema checks', () => {
    const out = tool({
      pyName: 'list_items',
      outputSchema: {
        type: 'object',
        properties: { items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, 'odd key': { type: 'string' } }, required: ['id'] } } },
        required: ['items'],
        additionalProperties: false,
      },
    });
    const table = makeTable([out]);
    const check = (value: unknown) => table.checkResult(out, { ok: true, value });

    it('pass a result that fits', () => {
      expect(check({ items: [{ id: 1 }, { id: 2, 'odd key': 'x' }] })).toBeUndefined();
    });

    it('name the JSON path and the rule of a mismatch', () => {
      expect(check({ items: [{ id: 1 }, { id: 2 }, { id: 'three' }] })).toBe("list_items(): the result does not match the tool's outputSchema: result.items[2].id: must be integer");
      expect(check({ items: [{ id: 1, 'odd key': 5 }] })).toMatch(/result\.items\[0\]\["odd key"\]: must be string$/);
      expect(check({ items: [{}] })).toMatch(/result\.items\[0\]: must have required property 'id'$/);
      expect(check({ items: [], more: 1 })).toMatch(/result: must NOT have additional properties \("more"\)$/);
      expect(check('text')).toMatch(/result: must be object$/);
    });

    it('leave tools without an outputSchema, failed calls and content blocks alone', () => {
      expect(makeTable([tool({})]).checkResult(tool({}), { ok: true, value: 'x' })).toBeUndefined();
      expect(table.checkResult(out, { ok: false, error: { kind: 'tool', type: 'E', message: 'm' } })).toBeUndefined();
      expect(table.checkResult(out, { ok: true, content: [{ type: 'image', data: '', mimeType: 'image/png' }] })).toBeUndefined();
    });
  });
});

describe('handler results', () => {
  const image = { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' };

  it('pass plain values through; undefined is null', () => {
    expect(toReply({ a: 1 })).toEqual({ ok: true, value: { a: 1 } });
    expect(toReply([1, 2])).toEqual({ ok: true, value: [1, 2] });
    expect(toReply(undefined)).toEqual({ ok: true, value: null });
    // An object with `content` and other keys is data, not a CallToolResult.
    expect(toReply({ content: [], total: 3 })).toEqual({ ok: true, value: { content: [], total: 3 } });
  });

  it('take structuredContent first, then text (JSON when the tool declares an outputSchema)', () => {
    expect(toReply({ content: [{ type: 'text', text: '{"a":1}' }], structuredContent: { a: 2 } })).toEqual({ ok: true, value: { a: 2 } });
    expect(toReply({ content: [{ type: 'text', text: '{"a":1}' }] })).toEqual({ ok: true, value: '{"a":1}' });
    expect(toReply({ content: [{ type: 'text', text: '{"a":1}' }] }, { outputSchema: { type: 'object' } })).toEqual({ ok: true, value: { a: 1 } });
    expect(toReply({ content: [{ type: 'text', text: 'not json' }] }, { outputSchema: { type: 'object' } })).toEqual({ ok: true, value: 'not json' });
    expect(toReply({ content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] })).toEqual({ ok: true, value: ['a', 'b'] });
  });

  it('hand content that is more than text to the guest as blocks', () => {
    expect(toReply({ content: [{ type: 'text', text: 'a' }, image] })).toEqual({ ok: true, content: [{ type: 'text', text: 'a' }, image] });
    expect(toReply({ content: [image] })).toEqual({ ok: true, content: [image] });
  });

  it('make isError a failed call with the text as message', () => {
    expect(toReply({ content: [{ type: 'text', text: 'no such file' }], isError: true })).toEqual({ ok: false, error: { kind: 'tool', type: 'ToolError', message: 'no such file' } });
    expect(toReply({ content: [], isError: true })).toMatchObject({ ok: false, error: { message: 'the tool reported an error' } });
  });
});
