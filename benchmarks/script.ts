// Runs a benchmark module's main() when the module is the script node was started with.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Every temporary folder of the run (guest builds, workspaces, hibernated sessions: about
 * 130 MB that each `npm run bench` used to leave in /tmp) goes under one folder, removed
 * when main() ends, whichever way. os.tmpdir() reads TMPDIR, and the processes the run
 * starts inherit it.
 */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const root = mkdtempSync(join(tmpdir(), 'tic-bench-run-'));
  process.env.TMPDIR = root;
  const end = (code: number) => {
    rmSync(root, { recursive: true, force: true });
    process.exit(code);
  };
  main().then(
    () => end(0),
    (err: unknown) => {
      process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
      end(1);
    },
  );
}
