// The `tic` command as a user runs it: a separate process, real exit codes.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../runtime/package-root.js';

const tic = (...args: string[]) =>
  spawnSync(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), ...args], { encoding: 'utf8' });

describe('tic run', () => {
  it('prints a cell\'s output and exits 0', () => {
    const r = tic('run', '-c', "import sys, zlib; print(sys.version_info[:2], zlib.crc32(b'x'))");
    expect(r.stdout).toBe('(3, 11) 2363233923\n');
    expect(r.status).toBe(0);
  });

  it('prints the final expression value, on a line of its own', () => {
    const r = tic('run', '-c', '6*7');
    expect(r.stdout).toBe('42\n');
    expect(r.status).toBe(0);
    // After output that did not end its line (sys.stdout.write returns the count: 2).
    expect(tic('run', '-c', 'import sys\nsys.stdout.write("hi")').stdout).toBe('hi\n2\n');
  });

  it('exits non-zero with the traceback on stderr when the cell raises', () => {
    const r = tic('run', '-c', 'print("partial")\n1/0');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('partial\n');
    expect(r.stderr).toContain('Traceback (most recent call last):');
    expect(r.stderr).toContain('ZeroDivisionError: division by zero');
  });

  it('runs a file, and the bundled example', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-run-'));
    const file = join(dir, 'cell.py');
    writeFileSync(file, 'import sys\nprint("to err", file=sys.stderr)\n"done"\n');
    const r = tic('run', file);
    expect(r.stderr).toBe('to err\n');
    expect(r.stdout).toBe("'done'\n");
    const example = tic('run', join(packageRoot(), 'examples', 'hello', 'hello.py'));
    expect(example.status).toBe(0);
    expect(example.stdout).toContain("orders per customer: {'ada': 2, 'lin': 1, 'kim': 1}");
    expect(example.stdout.trimEnd().split('\n').pop()).toBe("'kim'");
  });

  it('runs without the snapshot too', () => {
    const r = tic('run', '--no-snapshot', '-c', 'print(1)');
    expect(r.stdout).toBe('1\n');
  });

  it('says what is wrong with its arguments', () => {
    const none = tic('run');
    expect(none.status).not.toBe(0);
    expect(none.stderr).toContain('give exactly one of -c CODE or FILE');
    const missing = tic('run', '/no/such/file.py');
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/^tic: .*no such file/i);
  });
});
