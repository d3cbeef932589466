// Helpers for tests of the generated SDK.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Diagnostics } from '../compiler/diagnostics.js';
import { type PythonSdk, emitPython } from '../compiler/emit-python.js';
import { loadToolsFile } from '../compiler/load.js';
import { normalize } from '../compiler/normalize.js';
import { type Definition, type PyType, pyLiteral } from '../compiler/python/model.js';
import { packageRoot } from '../runtime/package-root.js';

export const FIXTURES_DIR = join(packageRoot(), 'conformance', 'fixtures', 'mcp-tools');
export const FIXTURES = ['everything', 'filesystem', 'memory', 'github'];
export const GOLDEN = join(packageRoot(), 'compiler', '__golden__');

export function sdkOf(file: string, moduleName = 'tools'): PythonSdk {
  const { tools } = normalize(loadToolsFile(file));
  return emitPython(tools, { moduleName, version: '0.0.0-test', sources: [file.split('/').pop()!] }, new Diagnostics(file));
}

export function writeSdk(sdk: PythonSdk, dir: string): void {
  for (const [rel, text] of sdk.files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

/** A value of type `t` as Python source (required TypedDict keys filled in). */
export function sample(t: PyType, defs: Map<string, Definition>, depth = 0): string {
  switch (t.kind) {
    case 'any':
    case 'none':
      return 'None';
    case 'name':
      return { str: '"x"', int: '1', float: '1.5', bool: 'True', object: 'None' }[t.name];
    case 'literal':
      return pyLiteral(t.values[0]);
    case 'list':
      return depth > 3 ? '[]' : `[${sample(t.item, defs, depth + 1)}]`;
    case 'dict':
      return '{}';
    case 'union':
      return sample(t.members[0]!, defs, depth);
    case 'ref': {
      const def = defs.get(t.name)!;
      if (def.kind === 'alias') return sample(def.type, defs, depth + 1);
      return `{${def.fields.filter((f) => f.required).map((f) => `${JSON.stringify(f.key)}: ${sample(f.type, defs, depth + 1)}`).join(', ')}}`;
    }
  }
}

