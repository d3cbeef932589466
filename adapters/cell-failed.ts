// What an adapter throws for a cell that raised, in its own module so an adapter does not
// load code-mode.ts (and with it serve's modules) to throw it.
import type { RunPythonResult } from './code-mode.js';

/** A cell that raised, as frameworks want a failed tool: its message is the text the model reads (the traceback). */
export class CellFailedError extends Error {
  override name = 'CellFailedError';
  constructor(readonly result: RunPythonResult) {
    super(result.text);
  }
}
