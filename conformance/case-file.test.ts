// The case-file format: every file of the suite is valid, and a file that breaks the
// format is refused with one line naming the file, the position and the field.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CaseFormatError, loadCaseFile } from './case-file.js';
import { discover, runConformance } from './runner.js';

const dir = mkdtempSync(join(tmpdir(), 'tic-case-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  try {
    loadCaseFile(path);
  } catch (err) {
    expect(err).toBeInstanceOf(CaseFormatError);
    return (err as Error).message.replace(`${dir}/`, '');
  }
  throw new Error(`${name} was accepted`);
}

const HEAD = 'description: d\ntools: { tools: [] }\n';

describe('case files', () => {
  it('every file of the suite follows the format', () => {
    for (const { path } of discover()) expect(() => loadCaseFile(path)).not.toThrow();
  });

  it.each([
    ['a misspelt field, with the fields allowed there', `${HEAD}cases:\n  - name: n\n    cells:\n      - code: "1"\n        expect: { stdot: x }\n`, 'a.yaml:7:19: cases[0].cells[0].expect.stdot: unknown field (expected one of: ok, value, valueMatches, stdout,'],
    ['a missing description', 'tools: { tools: [] }\ncases: [{ name: n, cells: [{ code: "1" }] }]\n', 'a.yaml:1:1: description: missing (required)'],
    ['a wrong type', `${HEAD}cases:\n  - name: 5\n    cells: [{ code: "1" }]\n`, 'a.yaml:4:5: cases[0].name: expected string, got number 5'],
    ['a case with nothing to check', `${HEAD}cases:\n  - name: n\n`, 'a.yaml:4:5: cases[0]: a case needs cells, pyright, prompt, buildWarning or buildError'],
    ['both tools and toolsText', 'description: d\ntools: { tools: [] }\ntoolsText: "x"\ncases: [{ name: n, cells: [{ code: "1" }] }]\n', 'a.yaml:1:1: (top level): give exactly one of tools, toolsText or inputs'],
    ['a regex that does not compile', `${HEAD}cases:\n  - name: n\n    cells: [{ code: "1", expect: { stdoutMatches: "(" } }]\n`, 'cases[0].cells[0].expect.stdoutMatches: not a valid regular expression: Invalid regular expression: /(/s: Unterminated group'],
    ['a handler that does nothing', 'description: d\ntools: { tools: [] }\nhandlers: { t: { delay: 5 } }\ncases: [{ name: n, cells: [{ code: "1" }] }]\n', 'a.yaml:3:13: handlers.t: a handler needs echo, reply, throw or hang'],
    ['a fixture that does not exist', 'description: d\ntools: fixture:nope\ncases: [{ name: n, cells: [{ code: "1" }] }]\n', 'a.yaml:2:1: tools: no fixture "fixture:nope"'],
    ['a bad file expectation', `${HEAD}cases: [{ name: n, cells: [{ code: "1", expect: { files: { a: 3 } } }] }]\n`, 'cases[0].cells[0].expect.files.a: expected text, null, {base64}, {sha256, size?} or {dir: true}'],
    ['an unknown limit', `${HEAD}cases: [{ name: n, limits: { timeout: 5 }, cells: [{ code: "1" }] }]\n`, 'cases[0].limits.timeout: unknown field (expected one of: timeoutMs, memoryMb, maxOutputBytes, workspaceMb, graceMs)'],
    ['a build error next to cells', `${HEAD}cases: [{ name: n, buildError: x, cells: [{ code: "1" }] }]\n`, 'cases[0].cells: a case with buildError checks nothing else'],
    ['malformed YAML', 'description: d\ntools: {tools: []\n', 'a.yaml:3:1: not valid YAML or JSON: '],
    ['malformed JSON', '{"description": "d", ', 'a.yaml:1:22: not valid YAML or JSON: '],
  ])('%s', (_what, text, message) => {
    expect(errorOf('a.yaml', text)).toContain(message);
  });

  it('--cases runs any folder: topics are its sub-folders, files at its top take its name', async () => {
    const root = join(dir, 'mine');
    mkdirSync(join(root, 'extra'), { recursive: true });
    writeFileSync(join(root, 'top.yaml'), `${HEAD}cases: [{ name: top, cells: [{ code: "6 * 7", expect: { value: "42" } }] }]\n`);
    writeFileSync(join(root, 'extra', 'x.json'), JSON.stringify({ description: 'd', tools: { tools: [] }, cases: [{ name: 'wrong', cells: [{ code: '1', expect: { value: '2' } }] }] }));
    writeFileSync(join(root, 'notes.txt'), 'not a case file');
    expect(discover(root).map((f) => f.topic)).toEqual(['extra', 'mine']);
    const results = await runConformance({ casesDir: root });
    expect(results.map((r) => [r.topic, r.name, r.ok, r.failure])).toEqual([
      ['extra', 'wrong', false, 'cell 1: value: expected "2", got "1"'],
      ['mine', 'top', true, undefined],
    ]);
  }, 120_000);

  it('a bad file stops the run before anything is built, naming every bad file', async () => {
    const root = join(dir, 'bad');
    mkdirSync(root);
    writeFileSync(join(root, 'one.yaml'), `${HEAD}cases: [{ name: n, cells: [{ cod: "1" }] }]\n`);
    writeFileSync(join(root, 'two.yaml'), 'description: d\ncases: []\n');
    await expect(runConformance({ casesDir: root })).rejects.toThrow(/one\.yaml:3:30: cases\[0\]\.cells\[0\]\.cod: unknown field.*\n.*two\.yaml:\d+:\d+: /);
  });
});
