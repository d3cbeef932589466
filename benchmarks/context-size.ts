// Prompt tokens (o200k) of the SDK description vs the JSON tool schemas it replaces,
// per fixture and prompt style. Run: npm run bench:context
import { join } from 'node:path';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { Diagnostics } from '../compiler/diagnostics.js';
import { PROMPT_STYLES, emitPrompt } from '../compiler/emit-prompt.js';
import { emitPython } from '../compiler/emit-python.js';
import { loadToolsFile } from '../compiler/load.js';
import { normalize } from '../compiler/normalize.js';
import { packageRoot } from '../runtime/package-root.js';

export interface ContextRow {
  fixture: string;
  tools: number;
  /** The tools as a model API receives them: name, description, input schema (compact JSON). */
  jsonTokens: number;
  prompt: Record<string, { tokens: number; ratio: number }>;
}

export function contextSizes(files: string[]): ContextRow[] {
  return files.map((file) => {
    const { tools } = normalize(loadToolsFile(file));
    const sdk = emitPython(tools, { moduleName: 'tools', version: '0', sources: [file] }, new Diagnostics(file));
    const json = JSON.stringify(tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema })));
    const jsonTokens = encode(json).length;
    const prompt: ContextRow['prompt'] = {};
    for (const style of PROMPT_STYLES) {
      const tokens = encode(emitPrompt(sdk, { moduleName: 'tools', style })).length;
      prompt[style] = { tokens, ratio: tokens / jsonTokens };
    }
    // A file called tools.json is named after its folder (examples/issues/tools.json -> issues).
    const parts = file.split('/');
    const base = parts.pop()!.replace(/\.json$/, '');
    return { fixture: base === 'tools' ? (parts.pop() ?? base) : base, tools: tools.length, jsonTokens, prompt };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = join(packageRoot(), 'conformance', 'fixtures', 'mcp-tools');
  const files = ['everything', 'filesystem', 'memory', 'github'].map((f) => join(dir, `${f}.json`));
  const rows = contextSizes(process.argv.length > 2 ? process.argv.slice(2) : files);
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log('| fixture | tools | JSON schemas | ' + PROMPT_STYLES.map((s) => `prompt ${s}`).join(' | ') + ' |');
    console.log('| --- | ---: | ---: | ' + PROMPT_STYLES.map(() => '---:').join(' | ') + ' |');
    for (const r of rows) {
      const cells = PROMPT_STYLES.map((s) => `${r.prompt[s]!.tokens} (${Math.round(r.prompt[s]!.ratio * 100)}%)`);
      console.log(`| ${r.fixture} | ${r.tools} | ${r.jsonTokens} | ${cells.join(' | ')} |`);
    }
  }
}
