// The main entry loads only what sessions need: a host that imports `tooliscode` to run
// cells must not pay for the compiler (ts-morph, TypeScript, json-schema-to-typescript),
// the MCP SDK, serve's HTTP front or ajv. Checked in a fresh process, on build/ (as a user
// of the package imports it), with a loader hook that records every module loaded.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAVY_PACKAGES, loadedModules } from './benchmarks/startup.js';
import { packageRoot } from './runtime/package-root.js';

describe("import 'tooliscode'", () => {
  it('loads no heavy package and none of the compiler, serve or code-mode modules', () => {
    const m = loadedModules('tooliscode');
    expect(m.own).toContain('index.js');
    expect(m.own).toContain('runtime/guest.js');
    expect(m.packages.filter((p) => (HEAVY_PACKAGES as readonly string[]).includes(p))).toEqual([]);
    expect(m.own.filter((p) => /^(compiler\/build|compiler\/emit-|compiler\/load|serve\/serve|serve\/http|serve\/mcp-server|adapters\/code-mode)/.test(p))).toEqual([]);
  });

  it('the check sees them where they are loaded (so the test above can fail)', () => {
    const m = loadedModules('tooliscode/compiler');
    expect(m.packages).toEqual(expect.arrayContaining(['ts-morph', 'json-schema-to-typescript']));
    expect(m.own).toContain('compiler/build.js');
    expect(loadedModules('tooliscode/serve').packages).toContain('@modelcontextprotocol/sdk');
  });

  it('keeps the lazy names working: build, serve and codeMode are functions; codeMode brings in its classes', () => {
    const script = `import * as tic from 'tooliscode';
      const before = [typeof tic.build, typeof tic.serve, typeof tic.codeMode, new Error() instanceof tic.ConversationClosedError];
      let threw = false; try { new tic.CodeMode(); } catch { threw = true; }
      await tic.codeMode({ dir: '/nonexistent-tic-build' }).catch(() => {});
      const direct = await import('tooliscode/code-mode');
      const err = new direct.ConversationClosedError('x');
      console.log(JSON.stringify({ before, threw, same: tic.ConversationClosedError === direct.ConversationClosedError && tic.CodeMode === direct.CodeMode, matches: err instanceof tic.ConversationClosedError }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ before: ['function', 'function', 'function', false], threw: true, same: true, matches: true });
  });
});

describe('the bundle (build/bundle/, the package entries)', () => {
  it('in a clone, refuses to load once tsc has rewritten build/ after it (it would run stale code); loads when as new, or when installed', () => {
    // A copy of the bundle beside a newer stand-in for tsc's build/index.js, in a folder of
    // the package (so that its npm packages resolve as the real ones do).
    const root = mkdtempSync(join(packageRoot(), '.bundle-guard-'));
    try {
      cpSync(join(packageRoot(), 'build', 'bundle'), join(root, 'build', 'bundle'), { recursive: true });
      const load = () => spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(root, 'build', 'bundle', 'index.js')).href)}); console.log('loaded')`], { encoding: 'utf8' });
      const later = new Date(Date.now() + 60_000);
      writeFileSync(join(root, 'build', 'index.js'), '');
      utimesSync(join(root, 'build', 'index.js'), later, later);
      expect(load().stdout.trim()).toBe('loaded'); // installed: file times mean nothing
      mkdirSync(join(root, '.git'));
      const stale = load();
      expect(stale.status).not.toBe(0);
      expect(stale.stderr).toContain('build/bundle is older than build/ (tsc ran alone): run npm run build');
      utimesSync(join(root, 'build', 'bundle', 'index.js'), later, later);
      expect(load().stdout.trim()).toBe('loaded');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
