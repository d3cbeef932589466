import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ExpectedFailures, SuiteError, judge, moduleOf, parseDriverOutput, readExpected, readModules } from './suite.js';

const HERE = new URL('.', import.meta.url).pathname;

function file(text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'tic-suite-')), 'f');
  writeFileSync(p, text);
  return p;
}

describe('the curated lists', () => {
  it('has at least 60 modules, including the ones the issue names, each expected failure with a known reason', () => {
    const modules = readModules(join(HERE, 'modules.txt'));
    expect(modules.length).toBeGreaterThanOrEqual(60);
    for (const m of ['test_zoneinfo', 'test_sqlite3', 'test_bz2', 'test_lzma', 'test_zlib', 'test_datetime', 'test_json', 'test_csv', 'test_re', 'test_tarfile', 'test_zipfile', 'test_shutil', 'test_os']) {
      expect(modules).toContain(m);
    }
    const expected = readExpected(join(HERE, 'expected-failures.yaml'));
    for (const id of Object.keys(expected.failures)) expect(moduleOf(id, modules), id).toBeDefined();
  });

  it('names the line of a bad module entry and of a duplicate', () => {
    expect(() => readModules(file('test_a\nos\n'))).toThrow(/:2: "os" is not a test module name/);
    expect(() => readModules(file('test_a\n# c\ntest_a\n'))).toThrow(/:3: test_a is listed twice/);
  });

  it('refuses an expected failure whose reason is not a category', () => {
    const f = file('categories:\n  no-sockets: none\nfailures:\n  test.test_x.T.test_y: no-socket\n');
    expect(() => readExpected(f)).toThrow(SuiteError);
    expect(() => readExpected(f)).toThrow(/failures\["test.test_x.T.test_y"\]: "no-socket" is not one of the categories \(no-sockets\)/);
  });
});

describe('judge', () => {
  const expected: ExpectedFailures = {
    categories: { 'no-sockets': '', 'no-threads': '' },
    failures: { 'test.test_a.T.test_sock': 'no-sockets', 'test.test_a.T.test_thread': 'no-threads', 'test.test_b.T.test_gone': 'no-threads' },
  };

  it('passes when exactly the listed tests fail', () => {
    const v = judge({ test_a: { 'test.test_a.T.test_ok': ['pass', ''], 'test.test_a.T.test_sock': ['error', 'OSError'], 'test.test_a.T.test_thread': ['fail', 'x'] } }, expected);
    expect(v).toEqual({ newFailures: [], unexpectedPasses: [], notRun: [] });
  });

  it('reports a new failure and an expected failure that now passes', () => {
    const v = judge({ test_a: { 'test.test_a.T.test_ok': ['fail', 'boom'], 'test.test_a.T.test_sock': ['pass', ''], 'test.test_a.T.test_thread': ['error', ''] } }, expected);
    expect(v.newFailures).toEqual([{ id: 'test.test_a.T.test_ok', status: 'fail', detail: 'boom' }]);
    expect(v.unexpectedPasses).toEqual([{ id: 'test.test_a.T.test_sock', category: 'no-sockets' }]);
  });

  it('lists entries of modules that ran but whose test did not run; ignores modules not run', () => {
    const v = judge({ test_a: { 'test.test_a.T.test_sock': ['skip', 'no'], 'test.test_a.T.test_thread': ['fail', ''] } }, expected);
    expect(v.notRun).toEqual([{ id: 'test.test_a.T.test_sock', category: 'no-sockets', status: 'skip' }]);
  });

  it('knows a module by its longest name (test_os is not test_os_extra) and setUpClass ids', () => {
    expect(moduleOf('test.test_os_extra.T.t', ['test_os', 'test_os_extra'])).toBe('test_os_extra');
    expect(moduleOf('setUpClass (test.test_os.T)', ['test_os'])).toBe('test_os');
    expect(moduleOf('test.test_osx.T.t', ['test_os'])).toBeUndefined();
  });
});

describe('parseDriverOutput', () => {
  it('reads the report after the marker, ignoring what the tests printed', () => {
    expect(parseDriverOutput('noise\n@@cpython-tests@@{"tests":{"a":["pass",""]},"seconds":1}\n')).toEqual({ tests: { a: ['pass', ''] }, seconds: 1 });
    expect(parseDriverOutput('crashed before the end')).toBeUndefined();
  });
});
