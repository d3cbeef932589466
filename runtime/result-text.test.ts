import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { NO_OUTPUT, RUN_PYTHON_OUTPUT_SCHEMA, formatRunResult } from './result-text.js';

const validate = new Ajv({ strict: false }).compile(RUN_PYTHON_OUTPUT_SCHEMA);

describe('formatRunResult', () => {
  it('puts printed output first, then the value', () => {
    const { text, structured } = formatRunResult({ ok: true, stdout: 'a\nb\n', stderr: '', value: '42' });
    expect(text).toBe('a\nb\n42');
    expect(structured).toEqual({ ok: true, stdout: 'a\nb\n', stderr: '', value: '42', error: null });
    expect(validate(structured)).toBe(true);
  });

  it('ends an unterminated print before the value, and keeps stderr', () => {
    expect(formatRunResult({ ok: true, stdout: 'x', stderr: 'warn\n', value: "'v'" }).text).toBe("x\nwarn\n'v'");
  });

  it('gives the traceback of a failed cell after its output', () => {
    const error = { type: 'ZeroDivisionError', message: 'division by zero', traceback: 'Traceback (most recent call last):\n  File "<cell-1>", line 2, in <module>\nZeroDivisionError: division by zero\n' };
    const { text, structured } = formatRunResult({ ok: false, stdout: 'partial\n', stderr: '', error });
    expect(text).toBe(`partial\n${error.traceback.trimEnd()}`);
    expect(structured.ok).toBe(false);
    expect(structured.value).toBeNull();
    expect(structured.error).toEqual(error);
    expect(validate(structured)).toBe(true);
  });

  it('says so when there is nothing to show, and puts a note first', () => {
    expect(formatRunResult({ ok: true, stdout: '', stderr: '' }).text).toBe(NO_OUTPUT);
    expect(formatRunResult({ ok: true, stdout: '', stderr: '', value: '1' }, 'a new session').text).toBe('[a new session]\n1');
  });

  it('drops fields a RunResult has that the model does not need', () => {
    const { structured } = formatRunResult({ ok: true, stdout: '', stderr: '', toolCalls: [{ name: 't', ms: 1, ok: true }] } as never);
    expect(Object.keys(structured).sort()).toEqual(['error', 'ok', 'stderr', 'stdout', 'value']);
  });
});
