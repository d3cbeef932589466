// Stage 1, load: read a tool list file (JSON or YAML) and recognise its shape.
//
// Shapes accepted, detected from the data (never from the file name):
//   OpenAI Chat Completions  [{type: "function", function: {name, description, parameters}}]
//   OpenAI Responses         [{type: "function", name, description, parameters}]
//   Anthropic                [{name, description, input_schema}]
//   MCP tools/list result    {tools: [{name, title?, description, inputSchema, outputSchema?, annotations?}]}
//                            (also a bare array of MCP tools, or a JSON-RPC response {result: {tools}})
// Any of the arrays may also come wrapped as {tools: [...]}.

import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { CompileError, Diagnostics, child } from './diagnostics.js';

export type ToolFormat = 'openai-chat' | 'openai-responses' | 'anthropic' | 'mcp';

export const FORMAT_NAMES: Record<ToolFormat, string> = {
  'openai-chat': 'OpenAI Chat Completions tools',
  'openai-responses': 'OpenAI Responses tools',
  anthropic: 'Anthropic tools',
  mcp: 'MCP tools/list',
};

/** One tool as found in the input, before any checking beyond its shape. */
export interface RawTool {
  name: unknown;
  title?: unknown;
  description?: unknown;
  inputSchema: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
  /** Path of the tool in the file, e.g. `tools[3]`. */
  path: string;
  /** Paths of its schemas, e.g. `tools[3].inputSchema` or `[2].function.parameters`. */
  inputPath: string;
  outputPath: string;
}

export interface LoadedFile {
  file: string;
  format: ToolFormat;
  tools: RawTool[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseText(file: string, text: string): unknown {
  const isYaml = /\.ya?ml$/i.test(file);
  if (!isYaml) {
    try {
      return JSON.parse(text) as Json;
    } catch (err) {
      const msg = (err as Error).message;
      // V8 gives a position, except for a text that ends too early: that is at its end.
      const pos = /position (\d+)/.exec(msg)?.[1] ?? (/Unexpected end/.test(msg) ? String(text.trimEnd().length) : undefined);
      let where = '';
      if (pos !== undefined) {
        const before = text.slice(0, Number(pos));
        const line = before.split('\n').length;
        const col = Number(pos) - before.lastIndexOf('\n');
        where = ` at line ${line}, column ${col}`;
      }
      throw new CompileError([{ severity: 'error', file, path: '', message: `malformed JSON${where}: ${msg.replace(/^.*?: /, '').replace(/ in JSON at position \d+.*$/, '')}` }]);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new CompileError([{ severity: 'error', file, path: '', message: `malformed YAML${at}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` }]);
  }
  return doc.toJS() as unknown;
}

function detectItem(item: unknown): ToolFormat | undefined {
  if (!isObject(item)) return undefined;
  if (item.type === 'function' && isObject(item.function)) return 'openai-chat';
  if (item.type === 'function' && 'parameters' in item) return 'openai-responses';
  if ('input_schema' in item) return 'anthropic';
  if ('inputSchema' in item) return 'mcp';
  return undefined;
}

function rawTool(format: ToolFormat, item: Record<string, unknown>, path: string): RawTool {
  switch (format) {
    case 'openai-chat': {
      const fn = item.function as Record<string, unknown>;
      const base = child(path, 'function');
      return {
        name: fn.name,
        description: fn.description,
        inputSchema: fn.parameters ?? { type: 'object', properties: {} },
        path,
        inputPath: child(base, 'parameters'),
        outputPath: child(base, 'outputSchema'),
      };
    }
    case 'openai-responses':
      return {
        name: item.name,
        description: item.description,
        inputSchema: item.parameters ?? { type: 'object', properties: {} },
        path,
        inputPath: child(path, 'parameters'),
        outputPath: child(path, 'outputSchema'),
      };
    case 'anthropic':
      return {
        name: item.name,
        description: item.description,
        inputSchema: item.input_schema,
        path,
        inputPath: child(path, 'input_schema'),
        outputPath: child(path, 'outputSchema'),
      };
    case 'mcp':
      return {
        name: item.name,
        title: item.title,
        description: item.description,
        inputSchema: item.inputSchema,
        outputSchema: item.outputSchema,
        annotations: item.annotations,
        path,
        inputPath: child(path, 'inputSchema'),
        outputPath: child(path, 'outputSchema'),
      };
  }
}

/** Finds the array of tools and the path it sits at. */
function locateTools(data: unknown): { items: unknown[]; path: string } | undefined {
  if (Array.isArray(data)) return { items: data, path: '' };
  if (isObject(data)) {
    if (Array.isArray(data.tools)) return { items: data.tools, path: 'tools' };
    if (isObject(data.result) && Array.isArray(data.result.tools)) return { items: data.result.tools, path: 'result.tools' };
  }
  return undefined;
}

export function loadToolsText(file: string, text: string): LoadedFile {
  const data = parseText(file, text);
  const diags = new Diagnostics(file);
  const found = locateTools(data);
  if (!found) {
    diags.error('', 'unknown shape: expected a list of tools (OpenAI, Anthropic) or an MCP tools/list result ({"tools": [...]})');
    diags.throwIfErrors();
  }
  const { items, path } = found!;
  if (items.length === 0) return { file, format: 'mcp', tools: [] };
  const format = detectItem(items[0]);
  if (!format) {
    diags.error(
      child(path, 0),
      'unknown tool shape: expected {type: "function", function: {...}} (OpenAI), {name, input_schema} (Anthropic) or {name, inputSchema} (MCP)',
    );
    diags.throwIfErrors();
  }
  const tools: RawTool[] = [];
  items.forEach((item, i) => {
    const itemPath = child(path, i);
    const f = detectItem(item);
    if (f !== format) {
      diags.error(itemPath, `expected a tool of the same shape as the first one (${FORMAT_NAMES[format!]})${f ? `, got ${FORMAT_NAMES[f]}` : ''}`);
      return;
    }
    tools.push(rawTool(format!, item as Record<string, unknown>, itemPath));
  });
  diags.throwIfErrors();
  return { file, format: format!, tools };
}

export function loadToolsFile(file: string): LoadedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CompileError([{ severity: 'error', file, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return loadToolsText(file, text);
}
