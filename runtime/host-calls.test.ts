// The host's reading of what the guest sends: any text at all gives a typed request or a
// refusal, never an exception; sizes, nesting and key counts are bounded before parsing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, MAX_REQUEST_KEYS, checkRequest, parseRequest, requestTooBig, valueTooBig } from './host-calls.js';

const MB = 1 << 20;

describe('parseRequest', () => {
  it('refuses every shape that is not a request, with a reason', () => {
    const cases: [string, RegExp][] = [
      ['null', /not a JSON object/],
      ['[]', /not a JSON object/],
      ['"call"', /not a JSON object/],
      ['{', /not JSON/],
      ['{"tool": 5}', /without a tool name/],
      ['{"tool": "t", "args": [1]}', /arguments of "t" are not a JSON object/],
      ['{"tool": "t", "namespace": 1}', /namespace that is not a string/],
      ['{"op": "nope", "tool": "t"}', /unknown request "nope"/],
      ['{"op": "wait", "start": 5}', /not a list/],
      ['{"op": "wait", "start": [null]}', /not a JSON object/],
      ['{"op": "wait", "start": [{"tool": "t"}]}', /no integer id/],
      ['{"op": "wait", "start": [{"tool": "t", "id": 1.5}]}', /no integer id/],
      ['{"op": "wait", "timeout": "soon"}', /timeout that is not a number/],
      ['{"op": "wait", "timeout": -1}', /timeout that is not a number/],
    ];
    for (const [text, why] of cases) {
      const r = parseRequest(text);
      expect(r.op, text).toBe('bad');
      expect(r.op === 'bad' && r.message, text).toMatch(why);
    }
  });

  it('reads calls and waits', () => {
    expect(parseRequest('{"op":"call","tool":"t","args":{"a":1},"namespace":"n"}')).toEqual({ op: 'call', req: { tool: 't', args: { a: 1 }, namespace: 'n' } });
    expect(parseRequest('{"tool":"t"}')).toEqual({ op: 'call', req: { tool: 't', args: {} } });
    expect(parseRequest('{"op":"wait","timeout":0.5,"start":[{"id":3,"tool":"t","args":{}}]}')).toEqual({ op: 'wait', timeoutMs: 500, start: [{ id: 3, req: { tool: 't', args: {} } }] });
  });

  it('never throws, whatever the text (random JSON, random strings, mutated requests)', () => {
    const valid = '{"op": "wait", "timeout": null, "start": [{"id": 1, "tool": "echo", "args": {"text": "x"}}]}';
    const mutated = fc.tuple(fc.nat(valid.length), fc.nat(8), fc.string({ maxLength: 8 })).map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(at + cut));
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), mutated, fc.jsonValue().map((v) => JSON.stringify({ op: 'wait', start: [v] }))), (text) => {
        const r = parseRequest(text);
        expect(['call', 'wait', 'bad']).toContain(r.op);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('requestTooBig', () => {
  it('passes ordinary requests', () => {
    expect(requestTooBig('{"op": "call", "tool": "t", "args": {"a": [1, {"b": "c"}]}}', MB)).toBeUndefined();
  });

  it('counts nesting outside strings only, escaped quotes included', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(requestTooBig(deep(MAX_JSON_DEPTH), MB)).toBeUndefined();
    expect(requestTooBig(deep(MAX_JSON_DEPTH + 1), MB)).toMatch(/nested deeper than 256 levels/);
    expect(requestTooBig(JSON.stringify({ s: '['.repeat(10_000) }), MB)).toBeUndefined();
    expect(requestTooBig(JSON.stringify({ s: `"\\${'['.repeat(10_000)}` }), MB)).toBeUndefined();
  });

  it('bounds the keys (the costly part of parsing) and the UTF-8 bytes', () => {
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`;
    expect(requestTooBig(keys(MAX_REQUEST_KEYS), 8 * MB)).toBeUndefined();
    expect(requestTooBig(keys(MAX_REQUEST_KEYS + 1), 8 * MB)).toMatch(/more than 100000 object keys/);
    expect(requestTooBig(JSON.stringify({ s: 'x'.repeat(MB) }), MB)).toMatch(/over this session's limit of 1\.0 MB \(limits\.maxCallBytes\)/);
    // 400k two-byte characters: under the limit in UTF-16 units, over it in UTF-8 bytes.
    expect(requestTooBig(JSON.stringify({ s: 'é'.repeat(400_000) }), 700_000)).toMatch(/is 0\.763 MB, over/);
  });
});

describe('checkRequest', () => {
  it('refuses a call with an argument error, and every call a wait starts with its id', () => {
    const big = 'x'.repeat(2000);
    expect(JSON.parse(checkRequest(JSON.stringify({ op: 'call', tool: 't', args: { big } }), 1000)!)).toMatchObject({ ok: false, error: { kind: 'argument', type: 'ToolArgumentError' } });
    const wait = JSON.parse(checkRequest(JSON.stringify({ op: 'wait', start: [{ id: 4, tool: 't', args: { big } }, { id: 5, tool: 't' }] }), 1000)!) as { done: { id: number; ok: boolean }[] };
    expect(wait.done.map((d) => [d.id, d.ok])).toEqual([
      [4, false],
      [5, false],
    ]);
    expect(checkRequest('{"op":"call","tool":"t"}', 1000)).toBeUndefined();
  });
});

describe('valueTooBig', () => {
  it('stops at the limit, at depth, and at a cycle, without serializing', () => {
    expect(valueTooBig({ a: [1, 'two', { three: null }] }, 1000)).toBeUndefined();
    expect(valueTooBig({ s: 'x'.repeat(2000) }, 1000)).toMatch(/more than 0\.001 MB/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueTooBig(deep, 1e9)).toMatch(/nested deeper than 256/);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(valueTooBig(cycle, 1e9)).toMatch(/cycle/);
    // A million small strings: stops soon after the limit rather than walking them all.
    expect(valueTooBig(Array.from({ length: 1_000_000 }, () => 'abc'), 4000)).toMatch(/more than/);
  });
});
