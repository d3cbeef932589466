// Helpers of the repository's own scripts: the benchmarks' entry points, and the test run's
// set-up (test-setup/global.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Points TMPDIR at a new folder for the rest of the run and returns what removes it: every
 * temporary folder the run makes (guest builds, workspaces, caches, hibernated sessions,
 * packed tarballs) goes under it, as os.tmpdir() reads TMPDIR and the processes the run
 * starts inherit it. Without it, each `npm test` left about 700 MB in /tmp and each
 * `npm run bench` about 130 MB.
 */
export function ownTmpdir(prefix: string): () => void {
  const root = mkdtempSync(join(tmpdir(), prefix));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}

/** Runs a benchmark module's main() when the module is the script node was started with, in a TMPDIR of its own. */
export function runIfMain(moduleUrl: string, main: () => Promise<void>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const removeTmpdir = ownTmpdir('tic-bench-run-');
  const end = (code: number) => {
    removeTmpdir();
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
