// The pre-flight check of cells (guest/python/_tic/check.py), as the host chooses it per
// session. The check itself runs in the guest, before any statement of a cell: literal SDK
// calls are checked against the signature table `tic build` wrote (compiler/emit-check.ts).
//
//   block (default)  a certain problem (an SDK function that does not exist, an unknown
//                    keyword, a missing required argument, too many positional arguments,
//                    a literal argument the tool's schema refuses) refuses the cell with
//                    `_tic.CellCheckError`, one problem per line: nothing ran, no tool was
//                    called; less certain ones are `[tooliscode: warning: ...]` lines on
//                    the cell's stderr and the cell runs
//   warn             every problem is a warning line on stderr; the cell runs
//   off              no check

export type CheckMode = 'off' | 'warn' | 'block';

export const CHECK_MODES: readonly CheckMode[] = ['off', 'warn', 'block'];

export const DEFAULT_CHECK_MODE: CheckMode = 'block';

/** The error type of a refused cell, as `RunResult.error.type` names it. */
export const CELL_CHECK_ERROR = '_tic.CellCheckError';

/**
 * The cell's source as the guest's run_cell reads it: a header with the session's options
 * before the source. A NUL byte cannot begin Python source, so no cell is mistaken for one.
 */
export function withCellOptions(code: string, check: CheckMode): string {
  return `\0tic:check=${check}\0${code}`;
}

/** `--check MODE` of the CLI: the mode, or an error naming the choices. */
export function parseCheckMode(value: string): CheckMode {
  if ((CHECK_MODES as readonly string[]).includes(value)) return value as CheckMode;
  throw new Error(`--check: ${JSON.stringify(value)} is not one of ${CHECK_MODES.join(', ')}`);
}
