// The case-file format: its types, and reading a file with every mistake reported as
// `file:line:col: field: what is wrong`. The format itself is case-file.schema.json
// (checked with ajv); a few rules a schema cannot say (fixtures exist, a build error
// excludes everything else) are checked here.

import { existsSync, readFileSync } from 'node:fs';
import type { CheckMode } from '../runtime/check.js';
import { join } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, type Node, isMap, isNode, isSeq, parseDocument } from 'yaml';
import { child } from '../compiler/diagnostics.js';
import { packageRoot } from '../runtime/package-root.js';
import type { Limits } from '../runtime/session.js';
import type { OutputSchemaMode } from '../runtime/tools.js';

export const FIXTURES_DIR = join(packageRoot(), 'conformance', 'fixtures', 'mcp-tools');
export const CASE_FILE_SCHEMA = join(packageRoot(), 'conformance', 'case-file.schema.json');

/** What a scripted handler does (one per tool name). */
export interface HandlerSpec {
  /** Return the arguments as they arrived. */
  echo?: true;
  /** Return this value (JSON; may be an MCP CallToolResult). */
  reply?: unknown;
  /** Throw an Error with this name and message. */
  throw?: { name?: string; message: string };
  /** Wait this long first (ms). */
  delay?: number;
  /** Never answer. */
  hang?: true;
  /** Answer only once the host has received this text on stdout (proves streaming). */
  waitForStdout?: string;
}

/** A file the host puts in the workspace folder: text, bytes, or a symbolic link. */
export type FileContent = string | { base64: string } | { symlink: string };
/** A workspace file after a cell: text, absent (null), bytes, a digest, or a folder. */
export type FileExpect = string | null | { base64: string } | { sha256: string; size?: number } | { dir: true };

export interface CellExpect {
  ok?: boolean;
  stdout?: string;
  stdoutMatches?: string;
  stderr?: string;
  stderrMatches?: string;
  value?: string | null;
  valueMatches?: string;
  error?: { type?: string; message?: string; traceback?: string };
  /** Exactly the tool calls the handlers received during the cell, in order. */
  calls?: { tool: string; args: unknown }[];
  /** How many tool calls were in flight at once, at most. */
  maxConcurrent?: number;
  files?: Record<string, FileExpect>;
  /** The session was ended by this cell. */
  sessionEnded?: boolean;
}

export interface Cell {
  code: string;
  expect?: CellExpect;
  /** Run this cell in a new session with a new, empty workspace folder. */
  newSession?: boolean;
  /** Changes the host makes to the workspace folder before the cell (null deletes). */
  workspace?: Record<string, FileContent | null>;
}

/** A usage snippet type-checked (pyright, strict) against the built SDK. */
export interface PyrightCheck {
  code: string;
  /** Number of errors expected (0: the snippet is right). */
  errors?: number;
  /** A regex one of the error messages must match (the snippet is wrong in that way). */
  errorMatches?: string;
}

export interface PromptCheck {
  contains?: string[];
  notContains?: string[];
  matches?: string[];
}

export interface Case {
  name: string;
  workspace?: Record<string, FileContent>;
  limits?: Limits;
  /** How the sessions treat a result that breaks its tool's outputSchema. */
  outputSchema?: OutputSchemaMode;
  /** The pre-flight check of the sessions' cells (createSession's check; default block). */
  check?: CheckMode;
  cells?: Cell[];
  /** `tic build` must fail with this message (regex). */
  buildError?: string;
  /** `tic build` must warn with this message (regex). */
  buildWarning?: string;
  prompt?: PromptCheck;
  pyright?: PyrightCheck[];
}

export interface ToolInput {
  file: string;
  tools?: unknown;
  toolsText?: string;
}

export interface CaseFile {
  description: string;
  /** A fixture name (`fixture:memory`) or an inline tool list in any supported shape. */
  tools?: unknown;
  /** The raw text of the tool list, for cases about malformed input. */
  toolsText?: string;
  /** The file name the compiler sees (default tools.json). */
  toolsFile?: string;
  /** Several tool files built as one SDK. */
  inputs?: ToolInput[];
  namespaces?: string[];
  promptStyle?: 'full' | 'compact' | 'index';
  handlers?: Record<string, HandlerSpec>;
  cases: Case[];
}

/** A case file that breaks the format; the message names the file, the line and the field. */
export class CaseFormatError extends Error {
  override name = 'CaseFormatError';
}

let validator: ReturnType<Ajv['compile']> | undefined;

function validate(): ReturnType<Ajv['compile']> {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
    ajv.addFormat('regex', (s: string) => regexError(s) === undefined);
    validator = ajv.compile(JSON.parse(readFileSync(CASE_FILE_SCHEMA, 'utf8')) as object);
  }
  return validator;
}

function regexError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 's');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const segmentsOf = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

const readable = (segments: (string | number)[]) =>
  segments.reduce<string>((p, s) => child(p, typeof s === 'number' || /^\d+$/.test(s) ? Number(s) : s), '') || '(top level)';

/** One ajv error as `[path segments, message]`, in the words of the format. */
function explain(e: ErrorObject): [string[], string] {
  const at = segmentsOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  const custom = (e.parentSchema as Record<string, unknown> | undefined)?.['x-message'];
  switch (e.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(((e.parentSchema as { properties?: object }).properties ?? {}) as object);
      return [[...at, String(p.additionalProperty)], `unknown field${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`];
    }
    case 'required':
      return [[...at, String(p.missingProperty)], 'missing (required)'];
    case 'type':
      return [at, `expected ${String(p.type).replace(',', ' or ')}, got ${describe(e.data)}`];
    case 'enum':
      return [at, `expected one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${describe(e.data)}`];
    case 'const':
      return [at, `expected ${JSON.stringify(p.allowedValue)}, got ${describe(e.data)}`];
    case 'format':
      return [at, p.format === 'regex' ? `not a valid regular expression: ${regexError(String(e.data))}` : `expected format ${String(p.format)}`];
    case 'minItems':
      return [at, `expected at least ${String(p.limit)} item(s)`];
    case 'pattern':
      return [at, typeof custom === 'string' ? custom : `expected a string matching ${String(p.pattern)}, got ${describe(e.data)}`];
    default:
      return [at, typeof custom === 'string' ? custom : (e.message ?? 'invalid')];
  }
}

/** The error to show: the deepest one, preferring the schema's own words at that depth. */
function pick(errors: ErrorObject[]): ErrorObject {
  const depth = (e: ErrorObject) => segmentsOf(e.instancePath).length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const deepest = Math.max(...errors.map(depth));
  const atDepth = errors.filter((e) => depth(e) === deepest);
  const worded = atDepth.find((e) => typeof (e.parentSchema as Record<string, unknown> | undefined)?.['x-message'] === 'string' && ['anyOf', 'oneOf'].includes(e.keyword));
  // Inside a failed anyOf/oneOf, a branch's own complaint (type, required) misleads: the
  // combinator's message says what was expected.
  const combinator = errors.find(
    (e) => ['anyOf', 'oneOf'].includes(e.keyword) && typeof (e.parentSchema as Record<string, unknown> | undefined)?.['x-message'] === 'string',
  );
  if (worded) return worded;
  // A misspelt field shows up as unknown and as missing: the unknown one says more.
  const plain = atDepth.find((e) => e.keyword === 'additionalProperties') ?? atDepth.find((e) => !['anyOf', 'oneOf', 'not', 'if'].includes(e.keyword));
  if (plain && combinator && plain.schemaPath.startsWith(combinator.schemaPath) && combinator.instancePath === plain.instancePath) return combinator;
  return plain ?? atDepth[0]!;
}

/** `file:line:col` of the node at `segments` (or of the key itself for a field that is wrong). */
function position(doc: ReturnType<typeof parseDocument>, lines: LineCounter, segments: string[]): string {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((it) => (isNode(it.key) ? (it.key as { value?: unknown }).value : it.key) === seg);
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (!isNode(item)) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  const { line, col } = lines.linePos(offset);
  return `${line}:${col}`;
}

/** Reads and checks a case file; throws CaseFormatError naming the file, line and field. */
export function loadCaseFile(path: string): CaseFile {
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(path, 'utf8'), { lineCounter: lines, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
    throw new CaseFormatError(`${path}${at}: not valid YAML or JSON: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const data = doc.toJS() as unknown;
  const fail = (segments: (string | number)[], message: string): never => {
    throw new CaseFormatError(`${path}:${position(doc, lines, segments.map(String))}: ${readable(segments)}: ${message}`);
  };
  const check = validate();
  if (!check(data)) {
    const [segments, message] = explain(pick(check.errors!));
    fail(segments, message);
  }
  const file = data as CaseFile;
  const fixtures = [{ tools: file.tools, at: ['tools'] as (string | number)[] }, ...(file.inputs ?? []).map((inp, i) => ({ tools: inp.tools, at: ['inputs', i, 'tools'] }))];
  for (const { tools, at } of fixtures) {
    if (typeof tools === 'string' && !existsSync(join(FIXTURES_DIR, `${tools.slice('fixture:'.length)}.json`))) fail(at, `no fixture ${JSON.stringify(tools)} in ${FIXTURES_DIR}`);
  }
  file.cases.forEach((c, i) => {
    if (c.buildError !== undefined) {
      const other = (['cells', 'pyright', 'prompt', 'buildWarning', 'workspace', 'limits'] as const).find((k) => c[k] !== undefined);
      if (other) fail(['cases', i, other], 'a case with buildError checks nothing else: move this to a case of its own');
    }
  });
  return file;
}
