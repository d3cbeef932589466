// What the model reads after a cell, and the same as structured data for programs.
//
// TEMPORARY: issue #10's `tic serve` work brings the project's one result formatter
// (used by `tic serve` and these adapters alike). Until it lands on main this module is
// that formatter for the adapters; when it lands, this file goes and its callers import
// the shared one, so there is one place that decides what the model reads.

import type { CellError } from '../runtime/instance.js';
import type { RunResult } from '../runtime/session.js';

/** A cell's result as data: what `structuredContent` carries in `tic serve`. */
export interface RunPythonResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** repr() of the cell's final expression, or null when it has none (or it is None). */
  value: string | null;
  /** The Python error, with a traceback whose frames are the cell's own; null when ok. */
  error: CellError | null;
}

export function structuredResult(r: RunResult): RunPythonResult {
  return { ok: r.ok, stdout: r.stdout, stderr: r.stderr, value: r.value ?? null, error: r.error ?? null };
}

/**
 * The short text the model reads: printed output (stdout, then stderr), then the final
 * value, or the error with its traceback. "(no output)" when a cell printed nothing.
 */
export function resultText(r: RunPythonResult): string {
  const parts: string[] = [];
  if (r.stdout) parts.push(r.stdout.trimEnd());
  if (r.stderr) parts.push(r.stderr.trimEnd());
  if (r.ok && r.value !== null) parts.push(r.value);
  if (!r.ok && r.error) parts.push(r.error.traceback.trimEnd() || `${r.error.type}: ${r.error.message}`);
  return parts.join('\n') || '(no output)';
}
