// The `run_python` tool's name and input schema, and a cell's result as the model reads it
// (short text) and as data (structured content).
//
// TEMPORARY: issue #10's `tic serve` work brings the project's one module for this
// (runtime/result-text.ts, shared by `tic serve` and these adapters). Until it lands on
// main this file stands in for it with the same names and signatures; when it lands, this
// file goes and its callers import the shared one, so one place decides what the model reads.

import type { RunResult } from '../runtime/session.js';

export const RUN_PYTHON_TOOL = 'run_python';

export const RUN_PYTHON_INPUT_SCHEMA = {
  type: 'object',
  properties: {
    code: { type: 'string', description: 'Python 3.11 source of one cell. Globals persist between calls; the value of a final expression is returned.' },
  },
  required: ['code'],
  additionalProperties: false,
} as const;

/** The structured form of a result (MCP `structuredContent`). Absent parts are null. */
export interface RunPythonOutput {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** `repr()` of the cell's final expression, when it has one that is not None. */
  value: string | null;
  error: { type: string; message: string; traceback: string } | null;
}

export const NO_OUTPUT = '(no output)';

function withNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}

/**
 * A cell's result as the model reads it: what it printed (stdout, then stderr), then its
 * value, or the Python traceback when it raised; `(no output)` when there is nothing.
 * `note` (e.g. "the session was restarted") comes first, in brackets.
 */
export function formatRunResult(r: Pick<RunResult, 'ok' | 'value' | 'stdout' | 'stderr' | 'error'>, note?: string): { text: string; structured: RunPythonOutput } {
  const structured: RunPythonOutput = {
    ok: r.ok,
    stdout: r.stdout,
    stderr: r.stderr,
    value: r.value ?? null,
    error: r.error ? { type: r.error.type, message: r.error.message, traceback: r.error.traceback } : null,
  };
  let text = withNewline(r.stdout) + withNewline(r.stderr);
  if (r.ok) {
    if (r.value !== undefined) text += withNewline(r.value);
  } else if (r.error) {
    text += withNewline(r.error.traceback || `${r.error.type}: ${r.error.message}`);
  }
  text = text.replace(/\n$/, '');
  if (text === '') text = NO_OUTPUT;
  if (note) text = `[${note}]\n${text}`;
  return { text, structured };
}
