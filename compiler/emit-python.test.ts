// The generated SDK: golden files for the real MCP fixtures, strict pyright with zero
// errors, and usage files per fixture where right calls pass and a wrong one is caught.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorsOf, pyright } from '../conformance/pyright.js';
import { FIXTURES, FIXTURES_DIR, GOLDEN, sample, sdkOf, writeSdk } from '../test-setup/sdk.js';
import type { PythonSdk } from './emit-python.js';
import { printType } from './python/model.js';

/** Right calls of every tool, and one wrong call whose line number is returned. */
function usageFile(sdk: PythonSdk): { text: string; wrongLine: number } {
  const lines = ['import tools', ''];
  let wrongLine = -1;
  let firstCall = '';
  for (const mod of sdk.modules) {
    const defs = new Map(mod.definitions.map((d) => [d.name, d]));
    for (const tool of mod.tools) {
      const sig = mod.signatures.get(tool.name)!;
      const args = sig.params.filter((p) => p.required).map((p) => `${p.pyName}=${sample(p.type, defs)}`);
      lines.push(`r_${tool.pyName} = tools.${tool.pyName}(${args.join(', ')})`);
      firstCall ||= `${tool.pyName}(${args.join(', ')})`;
      const typed = sig.params.find((p) => p.required && printType(p.type) === 'str');
      if (typed && wrongLine < 0) {
        const bad = sig.params.filter((p) => p.required).map((p) => `${p.pyName}=${p === typed ? '12345' : sample(p.type, defs)}`);
        lines.push(`tools.${tool.pyName}(${bad.join(', ')})`);
        wrongLine = lines.length - 1;
      }
    }
  }
  lines.push('', 'async def gathered() -> None:', '    import asyncio', `    results = await asyncio.gather(tools.aio.${firstCall}, tools.aio.${firstCall})`, '    print(results)');
  lines.push('found: list[str] = tools.search_tools("file")');
  return { text: lines.join('\n') + '\n', wrongLine };
}

describe('generated SDK of the real MCP fixtures', () => {
  it.each(FIXTURES)('%s matches its golden file', (name) => {
    const text = sdkOf(join(FIXTURES_DIR, `${name}.json`)).files.get('tools/__init__.py')!;
    const golden = join(GOLDEN, `${name}.py`);
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) {
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(golden, text);
    }
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('type-checks in strict pyright with zero errors, and so do right calls; a wrong argument type is reported', () => {
    const root = mkdtempSync(join(tmpdir(), 'tic-sdk-'));
    const wrong: Record<string, number> = {};
    for (const name of FIXTURES) {
      const dir = join(root, name);
      const sdk = sdkOf(join(FIXTURES_DIR, `${name}.json`));
      writeSdk(sdk, dir);
      const usage = usageFile(sdk);
      writeFileSync(join(dir, 'usage.py'), usage.text);
      wrong[name] = usage.wrongLine;
    }
    const diags = errorsOf(pyright(root));
    const unexpected = diags.filter((d) => !(d.file.endsWith('usage.py') && d.range.start.line === wrong[d.file.split('/').slice(-2)[0]!]));
    expect(unexpected.map((d) => `${d.file}:${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    for (const name of FIXTURES) {
      if (wrong[name]! < 0) continue;
      const caught = diags.filter((d) => d.file === join(root, name, 'usage.py') && d.range.start.line === wrong[name]);
      expect(caught.length, `${name}: the wrong call must be reported`).toBeGreaterThan(0);
      expect(caught[0]!.message).toMatch(/"Literal\[12345\]" is not assignable to "str"|cannot be assigned/);
    }
  }, 120_000);
});
