// Property-style: random valid tool lists (seeded, so a failure is reproducible) always
// give an SDK that is valid Python, imports, and type-checks in strict pyright.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_PYTHON } from '../guest/build/debian.js';
import { errorsOf, pyright } from '../conformance/pyright.js';
import { Diagnostics } from './diagnostics.js';
import { writeSdk } from '../test-setup/sdk.js';
import { emitPython } from './emit-python.js';
import { emitTypeScript } from './emit-typescript.js';
import { Project } from 'ts-morph';
import { loadToolsText } from './load.js';
import { normalize } from './normalize.js';

function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['id', 'name', 'class', 'from', 'list', 'type', 'my-name', 'x.y', '2fast', 'naïve', 'aio', 'search_tools', 'Any', 'TypedDict', '_call', 'None', 'self', 'kwargs', 'extra', 'a b', 'données', 'ünïcode', 'camelCase', 'UPPER', '$ref'];

function schemaGen(r: () => number) {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const defs: Record<string, unknown> = {};
  const gen = (depth: number): Record<string, unknown> => {
    const kinds = depth > 2 ? ['string', 'integer', 'number', 'boolean', 'enum', 'const', 'null', 'any'] : ['string', 'integer', 'number', 'boolean', 'enum', 'const', 'null', 'any', 'array', 'object', 'map', 'anyOf', 'oneOf', 'allOf', 'nullable', 'ref', 'typeArray'];
    const desc = r() < 0.3 ? { description: pick(['A "quoted" thing.', 'Back\\slash \\n', 'Ends with quote"', 'Ünïcode ✓ 🐍', 'Multi\nline\n\n  text', '"""triple"""', 'glob **/*.ext */ ends']) } : {};
    switch (pick(kinds)) {
      case 'enum':
        return { enum: [pick(['a', 'b-c', 'd"e']), pick([1, 2.5, true, null, 'z']), pick(['x', 'y'])], ...desc };
      case 'const':
        return { const: pick(['k', 3, false, null]) };
      case 'null':
        return { type: 'null' };
      case 'any':
        return { ...desc };
      case 'array':
        return { type: 'array', items: gen(depth + 1), ...desc };
      case 'object':
        return objectGen(depth + 1, desc);
      case 'map':
        return { type: 'object', additionalProperties: gen(depth + 1) };
      case 'anyOf':
        return { anyOf: [gen(depth + 1), gen(depth + 1)] };
      case 'oneOf':
        return { oneOf: [objectGen(depth + 1, {}), objectGen(depth + 1, {})] };
      case 'allOf':
        return { allOf: [objectGen(depth + 1, {}), objectGen(depth + 1, {})] };
      case 'nullable':
        return { type: pick(['string', 'integer']), nullable: true };
      case 'typeArray':
        return { type: [pick(['string', 'integer', 'boolean']), 'null'] };
      case 'ref': {
        const name = pick(['Node', 'Leaf', 'Item-X', 'a b']);
        if (!(name in defs)) {
          defs[name] = {};
          defs[name] =
            name === 'Node'
              ? { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/$defs/Node' } } } }
              : name === 'Leaf'
                ? { anyOf: [{ type: 'string' }, { type: 'array', items: { $ref: '#/$defs/Leaf' } }] }
                : gen(depth + 1);
        }
        return { $ref: `#/$defs/${encodeURIComponent(name)}` };
      }
      default:
        return { type: pick(['string', 'integer', 'number', 'boolean']), ...(r() < 0.3 ? { default: pick(['d', 1, true]) } : {}), ...desc };
    }
  };
  const objectGen = (depth: number, extra: Record<string, unknown>) => {
    const props: Record<string, unknown> = {};
    const n = 1 + Math.floor(r() * 4);
    for (let i = 0; i < n; i++) props[pick(NAMES)] = gen(depth);
    const keys = Object.keys(props);
    return { type: 'object', properties: props, required: keys.filter(() => r() < 0.5), ...extra };
  };
  return () => {
    for (const k of Object.keys(defs)) delete defs[k];
    const input = objectGen(0, {});
    return { ...input, ...(Object.keys(defs).length ? { $defs: { ...defs } } : {}) };
  };
}

function randomToolList(seed: number, count: number) {
  const r = rng(seed);
  const schema = schemaGen(r);
  const toolNames = ['search', 'list', 'class', 'get-user', 'get_user', 'getUser', 'aio', 'search_tools', '1st', 'x.y.z', 'ünïcode', 'print', 'None', 'ToolError', 'ToolArgumentError'];
  const tools = [];
  for (let i = 0; i < count; i++) {
    const name = `${toolNames[i % toolNames.length]}${i >= toolNames.length ? `-${i}` : ''}`;
    tools.push({ name, description: i % 3 ? `Tool ${i} does "things" \\ with ünïcode ✓ in **/*.py */` : '', inputSchema: schema(), ...(r() < 0.4 ? { outputSchema: schema() } : {}) });
  }
  return { tools };
}

describe('random valid tool lists', () => {
  it('always give an SDK that imports in CPython 3.11 and type-checks in strict pyright', () => {
    const root = mkdtempSync(join(tmpdir(), 'tic-random-'));
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const seed of seeds) {
      const file = `random-${seed}.json`;
      const { tools } = normalize(loadToolsText(file, JSON.stringify(randomToolList(seed, 20))));
      const sdk = emitPython(tools, { moduleName: 'tools', version: '0', sources: [file] }, new Diagnostics(file));
      writeSdk(sdk, join(root, `s${seed}`));
      // A stand-in for the guest's _tic, enough to import the SDK in the build Python.
      writeFileSync(join(root, `s${seed}`, '_tic.py'), 'class ToolError(Exception): pass\nclass ToolArgumentError(ToolError, TypeError, ValueError): pass\ndef call(*a, **k): pass\nasync def call_async(*a, **k): pass\ndef search(t, q): return []\nclass Image: pass\nclass Audio: pass\nclass Resource: pass\nclass ResourceLink(Resource): pass\nNOT_GIVEN = object()\ndef default(v): return object()\n');
      const imported = spawnSync(BUILD_PYTHON, ['-c', 'import tools, typing; typing.get_type_hints(tools.aio); print(len(tools.__all__))'], { cwd: join(root, `s${seed}`), encoding: 'utf8' });
      expect(imported.stderr, `seed ${seed}`).toBe('');
      expect(Number(imported.stdout)).toBeGreaterThan(20);
    }
    const diags = errorsOf(pyright(root)).filter((d) => !d.file.endsWith('_tic.py'));
    expect(diags.map((d) => `${d.file.replace(root, '')}:${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  }, 120_000);
});

describe('random valid tool lists, TypeScript side', () => {
  it('always give a tools.d.ts that compiles in strict TypeScript', async () => {
    const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true } });
    for (const seed of [11, 12, 13, 14]) {
      const file = `random-${seed}.json`;
      const { tools } = normalize(loadToolsText(file, JSON.stringify(randomToolList(seed, 20))));
      project.createSourceFile(`t${seed}/tools.d.ts`, await emitTypeScript(tools, { version: '0' }));
    }
    const errors = project.getPreEmitDiagnostics().map((d) => `${d.getSourceFile()?.getFilePath()}:${d.getLineNumber()}: ${String(d.getMessageText()).split('\n')[0]}`);
    expect(errors).toEqual([]);
  }, 120_000);
});
