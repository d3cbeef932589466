// The `run_python` tool as every front end shows it (`tic serve`, the agent framework
// adapters): its name, its input and output schemas, and a cell's result in the two forms
// a caller needs, short text for the model and the same data as structured content.

import type { RunResult } from './session.js';

export const RUN_PYTHON_TOOL = 'run_python';

/** The tool's arguments: one cell of Python source. */
export interface RunPythonInput {
  code: string;
}

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

export const RUN_PYTHON_OUTPUT_SCHEMA = {
  type: 'object',
  properties: {
    ok: { type: 'boolean', description: 'false when the cell raised' },
    stdout: { type: 'string' },
    stderr: { type: 'string' },
    value: { type: ['string', 'null'], description: "repr() of the cell's final expression" },
    error: {
      anyOf: [
        {
          type: 'object',
          properties: { type: { type: 'string' }, message: { type: 'string' }, traceback: { type: 'string' } },
          required: ['type', 'message', 'traceback'],
        },
        { type: 'null' },
      ],
    },
  },
  required: ['ok', 'stdout', 'stderr', 'value', 'error'],
} as const;

/** What the model reads when a cell printed nothing and returned nothing. */
export const NO_OUTPUT = '(no output)';

function withNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}

/**
 * A cell's result as the model reads it: what it printed (stdout, then stderr), then its
 * value, or the Python traceback when it raised; `(no output)` when there is nothing.
 * `note` (e.g. "the session was restarted") comes first, in brackets.
 */
export function formatRunResult(r: Pick<RunResult, 'ok' | 'value' | 'stdout' | 'stderr' | 'error'>, note?: string, maxBytes = DEFAULT_MAX_RESULT_BYTES): { text: string; structured: RunPythonOutput } {
  let result = formatWhole(r, note);
  // The text repeats the structured parts: both together must fit one message a client
  // accepts (the MCP SDK drops a stdio connection at 10 MiB). The longest part is halved
  // until they do; each cut part says so.
  let cut = { ...r, ...(r.error ? { error: { ...r.error } } : {}) };
  for (let i = 0; i < 64 && Buffer.byteLength(JSON.stringify(result)) > maxBytes; i++) {
    const parts: [string, (v: string) => void][] = [
      [cut.stdout, (v) => (cut = { ...cut, stdout: v })],
      [cut.stderr, (v) => (cut = { ...cut, stderr: v })],
      [cut.value ?? '', (v) => (cut = { ...cut, value: v })],
      [cut.error?.message ?? '', (v) => (cut = { ...cut, error: { ...cut.error!, message: v } })],
      [cut.error?.traceback ?? '', (v) => (cut = { ...cut, error: { ...cut.error!, traceback: v } })],
    ];
    const [longest, set] = parts.reduce((a, b) => (b[0].length > a[0].length ? b : a));
    set(halve(longest));
    result = formatWhole(cut, note);
  }
  return result;
}

/** Bytes of JSON that a run_python result (text and structured content together) may take (default 4 MiB). */
export const DEFAULT_MAX_RESULT_BYTES = 4 << 20;
const CUT_MARKER = '\n[tooliscode: cut to fit the result limit]\n';

function halve(s: string): string {
  const body = s.endsWith(CUT_MARKER) ? s.slice(0, -CUT_MARKER.length) : s;
  let end = Math.floor(body.length / 2);
  if (end > 0 && /[\ud800-\udbff]/.test(body[end - 1]!)) end--; // never half a surrogate pair
  return body.slice(0, end) + CUT_MARKER;
}

function formatWhole(r: Pick<RunResult, 'ok' | 'value' | 'stdout' | 'stderr' | 'error'>, note?: string): { text: string; structured: RunPythonOutput } {
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
