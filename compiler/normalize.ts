// Stage 2, normalize: every input format becomes one IR. Names are checked and given
// Python identifiers; schemas are checked to be JSON Schemas (with errors that name the
// exact path), so later stages can trust them.

import { Diagnostics, child } from './diagnostics.js';
import type { LoadedFile, RawTool } from './load.js';
import { NameScope, SDK_RESERVED, identifier } from './python/names.js';
import { ajvFor } from './schema-ajv.js';

export type JsonSchema = boolean | { [key: string]: unknown };

export interface ToolIR {
  /** The tool's own name: what the host handler is registered under. */
  name: string;
  /** The Python function name in the SDK. */
  pyName: string;
  /** Python submodule for multi-file builds (`tools.github.create_issue`), else undefined. */
  namespace?: string;
  title?: string;
  description: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  source: { file: string; path: string; inputPath: string; outputPath: string };
}

export interface NormalizeOptions {
  /** Python namespace (submodule) for the tools of this file; undefined = top level. */
  namespace?: string;
}

const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
const SCHEMA_MAPS = ['properties', '$defs', 'definitions', 'patternProperties', 'dependentSchemas'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_ONES = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'additionalItems', 'unevaluatedProperties', 'unevaluatedItems'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The structural checks people get wrong, with messages that say what was expected;
 * ajv's meta-schema validation then catches the rest.
 */
function checkSchema(schema: unknown, path: string, diags: Diagnostics, tool: string): void {
  if (typeof schema === 'boolean') return;
  if (!isObject(schema)) {
    diags.error(path, `expected a JSON Schema (an object or a boolean), got ${describe(schema)}`, tool);
    return;
  }
  if ('type' in schema) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    types.forEach((t, i) => {
      if (typeof t !== 'string' || !JSON_TYPES.has(t)) {
        const at = Array.isArray(schema.type) ? child(child(path, 'type'), i) : child(path, 'type');
        diags.error(at, `expected a JSON Schema type (${[...JSON_TYPES].join(', ')}), got ${describe(t)}`, tool);
      }
    });
  }
  if ('required' in schema && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) {
    diags.error(child(path, 'required'), `expected an array of property names, got ${describe(schema.required)}`, tool);
  }
  if ('enum' in schema && !Array.isArray(schema.enum)) {
    diags.error(child(path, 'enum'), `expected an array of values, got ${describe(schema.enum)}`, tool);
  }
  for (const key of SCHEMA_MAPS) {
    if (!(key in schema)) continue;
    const map = schema[key];
    if (!isObject(map)) {
      diags.error(child(path, key), `expected an object mapping names to schemas, got ${describe(map)}`, tool);
      continue;
    }
    for (const [k, v] of Object.entries(map)) checkSchema(v, child(child(path, key), k), diags, tool);
  }
  for (const key of SCHEMA_LISTS) {
    if (!(key in schema)) continue;
    const list = schema[key];
    if (!Array.isArray(list)) {
      diags.error(child(path, key), `expected an array of schemas, got ${describe(list)}`, tool);
      continue;
    }
    list.forEach((v, i) => checkSchema(v, child(child(path, key), i), diags, tool));
  }
  for (const key of SCHEMA_ONES) {
    if (!(key in schema)) continue;
    const v = schema[key];
    if (key === 'items' && Array.isArray(v)) v.forEach((s, i) => checkSchema(s, child(child(path, key), i), diags, tool));
    else checkSchema(v, child(path, key), diags, tool);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

function metaValidate(schema: Record<string, unknown>, path: string, diags: Diagnostics, tool: string): void {
  const { ajv, schema: rest } = ajvFor(schema);
  let ok: boolean;
  try {
    ok = ajv.validateSchema(rest) as boolean;
  } catch (err) {
    diags.error(path, `not a valid JSON Schema: ${(err as Error).message}`, tool);
    return;
  }
  if (!ok && ajv.errors?.length) {
    const e = ajv.errors[0]!;
    const at = e.instancePath
      .split('/')
      .filter(Boolean)
      .reduce((p, seg) => child(p, /^\d+$/.test(seg) ? Number(seg) : seg.replace(/~1/g, '/').replace(/~0/g, '~')), path);
    diags.error(at, `not a valid JSON Schema: ${e.message ?? 'invalid'}`, tool);
  }
}

function normalizeTool(raw: RawTool, diags: Diagnostics, names: NameScope, options: NormalizeOptions): ToolIR | undefined {
  if (typeof raw.name !== 'string' || raw.name.trim() === '') {
    diags.error(child(raw.path, 'name'), `a tool needs a name (a non-empty string), got ${describe(raw.name)}`);
    return undefined;
  }
  const name = raw.name;
  const before = diags.errors.length;
  if (raw.description !== undefined && typeof raw.description !== 'string') {
    diags.error(child(raw.path, 'description'), `expected a string, got ${describe(raw.description)}`, name);
  }
  if (!isObject(raw.inputSchema)) {
    diags.error(raw.inputPath, `expected the input schema (a JSON Schema object), got ${describe(raw.inputSchema)}`, name);
    return undefined;
  }
  const input = raw.inputSchema;
  if ('type' in input && input.type !== 'object') {
    diags.error(child(raw.inputPath, 'type'), `tool arguments are an object: expected "object", got ${describe(input.type)}`, name);
  }
  checkSchema(input, raw.inputPath, diags, name);
  let output: Record<string, unknown> | undefined;
  if (raw.outputSchema !== undefined) {
    if (!isObject(raw.outputSchema)) diags.error(raw.outputPath, `expected a JSON Schema object, got ${describe(raw.outputSchema)}`, name);
    else {
      output = raw.outputSchema;
      checkSchema(output, raw.outputPath, diags, name);
    }
  }
  if (diags.errors.length === before) {
    metaValidate(input, raw.inputPath, diags, name);
    if (output) metaValidate(output, raw.outputPath, diags, name);
  }
  if (diags.errors.length !== before) return undefined;
  return {
    name,
    pyName: names.allocate(identifier(name, 'snake')),
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(typeof raw.title === 'string' ? { title: raw.title } : {}),
    description: typeof raw.description === 'string' ? raw.description : '',
    inputSchema: input,
    ...(output ? { outputSchema: output } : {}),
    ...(isObject(raw.annotations) ? { annotations: raw.annotations } : {}),
    source: { file: '', path: raw.path, inputPath: raw.inputPath, outputPath: raw.outputPath },
  };
}

/** Normalizes one loaded file; errors of every tool are collected, then thrown together. */
export function normalize(loaded: LoadedFile, options: NormalizeOptions = {}): { tools: ToolIR[]; diagnostics: Diagnostics } {
  const diags = new Diagnostics(loaded.file);
  const names = new NameScope(SDK_RESERVED, true);
  const seen = new Map<string, string>();
  const tools: ToolIR[] = [];
  for (const raw of loaded.tools) {
    const tool = normalizeTool(raw, diags, names, options);
    if (!tool) continue;
    const dup = seen.get(tool.name);
    if (dup) {
      diags.error(child(raw.path, 'name'), `duplicate tool name (first at ${dup}): the host could not tell them apart`, tool.name);
      continue;
    }
    seen.set(tool.name, raw.path);
    tool.source.file = loaded.file;
    tools.push(tool);
  }
  diags.throwIfErrors();
  return { tools, diagnostics: diags };
}
