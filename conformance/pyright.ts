// Runs pyright (npm) on a folder and returns its diagnostics: the compiler's tests and the
// conformance cases' usage snippets both judge generated SDKs with it.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';

export interface PyrightDiagnostic {
  file: string;
  severity: 'error' | 'warning' | 'information';
  message: string;
  rule?: string;
  range: { start: { line: number; character: number } };
}

/** Type-checks `dir` in strict mode; `_tic` is the guest's module, typed by the SDK's stub. */
export function pyright(dir: string): PyrightDiagnostic[] {
  writeFileSync(
    join(dir, 'pyrightconfig.json'),
    JSON.stringify({ typeCheckingMode: 'strict', pythonVersion: '3.11', pythonPlatform: 'Linux', reportMissingModuleSource: false }),
  );
  const r = spawnSync(process.execPath, [join(packageRoot(), 'node_modules', 'pyright', 'index.js'), '--outputjson', '-p', dir], {
    cwd: dir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!r.stdout) throw new Error(`pyright did not run: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { generalDiagnostics: PyrightDiagnostic[] }).generalDiagnostics;
}

export const errorsOf = (diags: PyrightDiagnostic[]) => diags.filter((d) => d.severity === 'error');
