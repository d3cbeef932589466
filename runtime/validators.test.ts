// validators.cjs, the checks tic build compiles ahead (compiler/emit-validators.ts): used
// only for the very schema it was made from, never a reason for a check to differ or fail,
// and what spares a process's first tool call from loading ajv's compiler.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emitValidators } from '../compiler/emit-validators.js';
import { testGuestDir } from '../test-setup/session.js';
import { type ToolSpec, ToolTable } from './tools.js';
import { ajvVersion, prebuiltValidators, schemaText, VALIDATORS_FILE } from './validators.js';

const tool = (inputSchema: Record<string, unknown>): ToolSpec => ({ name: 't', pyName: 't', inputSchema });
const count = tool({ type: 'object', properties: { n: { type: 'integer' } } });

/** A folder holding `text` as its validators.cjs. */
function withFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tic-validators-'));
  writeFileSync(join(dir, VALIDATORS_FILE), text);
  return dir;
}

describe('validators.cjs', () => {
  it('is what checks a schema it was made for', () => {
    // A hand-made file whose check refuses everything: the table must take its word.
    const dir = withFile(
      `module.exports = () => ({ format: 1, ajv: ${JSON.stringify(ajvVersion())}, schemas: { i0: ${JSON.stringify(schemaText(count.inputSchema))} }, unchecked: [], validators: { i0: Object.assign(function v() { v.errors = [{ instancePath: '', schemaPath: '#', keyword: 'x', params: {}, message: 'refused by the file' }]; return false; }, {}) } });`,
    );
    expect(() => new ToolTable([count], prebuiltValidators(dir)).check(count, { n: 1 })).toThrow('t(): the arguments refused by the file (x)');
  });

  it('is found from a relative folder, as `loadGuest("dist")` gives it', () => {
    const dir = withFile(emitValidators([count], 'test'));
    const warnings: string[] = [];
    const lookup = prebuiltValidators(relative(process.cwd(), dir), (m) => warnings.push(m))!;
    expect(lookup('i', 0, count.inputSchema)?.validate).toBeTypeOf('function');
    expect(warnings).toEqual([]);
  });

  it('is not used for another schema: a tools.json edited after the build is checked as it now reads', () => {
    const dir = withFile(emitValidators([count], 'test'));
    const edited = tool({ type: 'object', properties: { n: { type: 'string' } } });
    const table = new ToolTable([edited], prebuiltValidators(dir));
    expect(() => table.check(edited, { n: 'text' })).not.toThrow();
    expect(() => table.check(edited, { n: 1 })).toThrow('t(): argument "n" must be string');
  });

  it.each([
    ['fails to load', `throw new Error('boom');`, /could not be loaded \(boom\)/],
    ['is of another format', `module.exports = () => ({ format: 2, schemas: {}, unchecked: [], validators: {} });`, /is not one this version of tooliscode reads/],
    ['is not a factory', `module.exports = 42;`, /is not one this version of tooliscode reads/],
    ['was made by another ajv', emitValidators([count], 'test').replace(/ajv: "[^"]*"/, 'ajv: "7.0.0"'), /was made by ajv 7\.0\.0, this process has ajv \d/],
  ])('that %s is said once, and the checks are made without it', (_what, text, warning) => {
    const warnings: string[] = [];
    const table = new ToolTable([count], prebuiltValidators(withFile(text), (m) => warnings.push(m)));
    expect(() => table.check(count, { n: 'x' })).toThrow('t(): argument "n" must be integer');
    expect(() => table.check(count, { n: 2 })).not.toThrow();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(warning);
  });

  it('leaves a schema ajv cannot compile unchecked, as the runtime does', () => {
    const bad = tool({ type: 'object', properties: { s: { type: 'string', pattern: '(' } } });
    const text = emitValidators([bad], 'test');
    expect(text).toContain('unchecked: ["i0"]');
    for (const table of [new ToolTable([bad]), new ToolTable([bad], prebuiltValidators(withFile(text)))]) expect(() => table.check(bad, { s: 5 })).not.toThrow();
  });

  it('keeps a schema\'s strings data: names, patterns and values that look like code stay strings', () => {
    // tic serve builds from what MCP servers list: their schemas are not trusted code.
    const evil = ['"); globalThis.pwned = 1; ("', '\n}); globalThis.pwned = 2; ({\n', '*/ globalThis.pwned = 3 /*', '`${globalThis.pwned = 4}`', "'; globalThis.pwned = 5; '", '\u2028\u2029', '__proto__', 'constructor'];
    const quote = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const properties = Object.fromEntries(evil.map((k) => [k, { type: 'string', pattern: `^${quote(k)}$`, description: k, enum: [k, 'x'] }]));
    const t = tool({ type: 'object', properties, required: evil.filter((k) => k !== '__proto__'), title: evil[2], [evil[0]!]: evil[1] });
    const warnings: string[] = [];
    const table = new ToolTable([t], prebuiltValidators(withFile(emitValidators([t], 'test')), (m) => warnings.push(m)));
    const good = Object.fromEntries(evil.filter((k) => k !== '__proto__').map((k) => [k, k]));
    expect(() => table.check(t, good)).not.toThrow();
    expect(() => table.check(t, { ...good, [evil[3]!]: 'x' })).toThrow(/must match pattern/);
    expect(warnings).toEqual([]);
    expect((globalThis as { pwned?: unknown }).pwned).toBeUndefined();
  });

  it('keeps both drafts apart in one file', () => {
    const d2020 = { ...tool({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'integer' }], items: false }), name: 'u', pyName: 'u' };
    const tools = [count, d2020];
    const table = new ToolTable(tools, prebuiltValidators(withFile(emitValidators(tools, 'test'))));
    expect(() => table.check(d2020, [1])).not.toThrow();
    expect(() => table.check(d2020, [1, 2])).toThrow(/u\(\)/);
    expect(() => table.check(count, { n: 0.5 })).toThrow('t(): argument "n" must be integer');
  });
});

describe("a process's first tool call", () => {
  // A child process (a fresh module cache) checks a call's arguments, and says whether
  // ajv's compiler (ajv/dist/core.js) was loaded for it.
  const firstCall = (dir: string) => {
    const script = `
      import { createRequire } from 'node:module';
      const { loadGuest } = await import(${JSON.stringify(new URL('../build/runtime/guest.js', import.meta.url).href)});
      const guest = await loadGuest(process.argv[1], { warm: 0 });
      const s = await guest.createSession({ handlers: { echo: (a) => a } });
      const r = await s.run('tools.echo(text=int("5"))');
      const ajv = Object.keys(createRequire(import.meta.url).cache).some((k) => k.endsWith('/ajv/dist/core.js'));
      console.log(JSON.stringify({ error: r.error?.message, ajv }));
      await s.close();
      await guest.close();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8', timeout: 60_000 });
    expect(child.status, child.stderr).toBe(0);
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as { error?: string; ajv: boolean };
  };

  it('uses the build\'s validators, without loading ajv\'s compiler; without them it loads it and checks the same', async () => {
    const dir = await testGuestDir();
    expect(firstCall(dir)).toEqual({ error: 'echo(): argument "text" must be string (type)', ajv: false });
    const copy = mkdtempSync(join(tmpdir(), 'tic-novalidators-'));
    try {
      cpSync(dir, copy, { recursive: true });
      rmSync(join(copy, VALIDATORS_FILE));
      expect(firstCall(copy)).toEqual({ error: 'echo(): argument "text" must be string (type)', ajv: true });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
