import { describe, expect, it } from 'vitest';
import { fastRunArgs } from './run-args.js';

describe('the plain tic run that skips the full command line', () => {
  it('takes -c, --code, --no-snapshot, --check and paths', () => {
    expect(fastRunArgs(['run', '-c', 'print(1)'])).toEqual({ code: 'print(1)', paths: [], snapshot: true, check: 'block' });
    expect(fastRunArgs(['run', 'dist', '--code', '1', '--no-snapshot', '--check', 'off'])).toEqual({ code: '1', paths: ['dist'], snapshot: false, check: 'off' });
    expect(fastRunArgs(['run', 'dist', 'cell.py'])).toEqual({ paths: ['dist', 'cell.py'], snapshot: true, check: 'block' });
  });

  it('leaves everything else to commander', () => {
    for (const argv of [
      ['build', 'tools.json'],
      ['run', '--handlers', 'h.js', 'dist', '-c', '1'],
      ['run', '-c'],
      ['run', '-c', '-1'],
      ['run', '-c', '1', '-c', '2'],
      ['run', '-cprint(1)'],
      ['run', '--check', 'bogus', '-c', '1'],
      ['run', '--help'],
      ['run', '--', '-c'],
      ['run', '--code=1'],
    ]) {
      expect(fastRunArgs(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
