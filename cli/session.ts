// `tic run DIR --handlers FILE` and `tic repl DIR`: cells in a real session, whose SDK
// calls reach the handlers a JavaScript or TypeScript module exports.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { CheckMode } from '../runtime/check.js';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { ts } from 'ts-morph';
import { cacheRoot } from '../guest/build/index.js';
import { loadGuest } from '../runtime/guest.js';
import type { Manifest } from '../compiler/build.js';
import { serverSpecsFromOptions } from '../runtime/mcp/config.js';
import { McpHub, namespacesOfBuild } from '../runtime/mcp/hub.js';
import { type ServerCliOptions, upstreamOptions } from './servers.js';
import type { Handlers, RunResult, Session } from '../runtime/session.js';

export class HandlersError extends Error {}

/**
 * The handlers a module exports: its `handlers` export, else its default export, an
 * object of functions keyed by original tool name. A .ts module is transpiled on the fly
 * (types are dropped, not checked; it may import packages and .js files, not other .ts).
 */
export async function loadHandlers(file: string): Promise<Handlers> {
  const path = resolve(file);
  if (!existsSync(path)) throw new HandlersError(`${file}: no such file`);
  let url = pathToFileURL(path).href;
  let temp: string | undefined;
  if (/\.[cm]?ts$/.test(path)) {
    const out = ts.transpileModule(readFileSync(path, 'utf8'), {
      fileName: path,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
    });
    // Next to the original, so that its relative imports and packages resolve the same way.
    temp = join(dirname(path), `.${basename(path).replace(/\.[cm]?ts$/, '')}.tic-${process.pid}.mjs`);
    writeFileSync(temp, out.outputText);
    url = pathToFileURL(temp).href;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new HandlersError(`${file}: cannot load the handlers: ${(err as Error).message}`);
  } finally {
    if (temp) rmSync(temp, { force: true });
  }
  const handlers = (mod.handlers ?? mod.default) as unknown;
  if (typeof handlers !== 'object' || handlers === null) {
    throw new HandlersError(`${file}: export the handlers as \`export const handlers = { tool_name: (args) => ... }\` or as the default export`);
  }
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function') throw new HandlersError(`${file}: handler ${JSON.stringify(name)} is not a function`);
  }
  return handlers as Handlers;
}

/** MCP server options (their tools serve the calls; with --handlers, those win), and the session's. */
export interface SessionCliOptions extends ServerCliOptions {
  handlers?: string;
  workspace?: string;
  timeoutMs?: number;
  /** The pre-flight check of cells (runtime/check.ts; default block). */
  check?: CheckMode;
}

/** The build's servers, each under the namespace the build gave it. */
async function connectServers(dir: string, opts: SessionCliOptions, manifest: Manifest): Promise<McpHub | undefined> {
  const specs = serverSpecsFromOptions(opts);
  if (!specs.length) return undefined;
  const { hub, failures } = await McpHub.start(specs, { ...upstreamOptions(opts), namespaceOf: namespacesOfBuild(manifest.inputs) });
  for (const f of failures) process.stderr.write(`tic: ${f.message}\n`);
  return hub;
}

async function openSession(dir: string, opts: SessionCliOptions): Promise<{ session: Session; close: () => Promise<void> }> {
  const guest = await loadGuest(dir, { warm: 0 });
  const mcp = await connectServers(dir, opts, guest.manifest);
  const handlers = { ...mcp?.handlers(guest.tools.tools), ...(opts.handlers ? await loadHandlers(opts.handlers) : {}) };
  const session = await guest.createSession({
    handlers,
    ...(opts.workspace ? { workspace: opts.workspace } : {}),
    ...(opts.timeoutMs ? { limits: { timeoutMs: opts.timeoutMs } } : {}),
    ...(opts.check ? { check: opts.check } : {}),
  });
  return {
    session,
    close: async () => {
      await session.close();
      await mcp?.close();
    },
  };
}

function printResult(r: RunResult): void {
  if (r.ok) {
    if (r.value !== undefined) process.stdout.write(`${r.value}\n`);
  } else {
    process.stderr.write(r.error!.traceback);
  }
}

/** One cell in a session; the exit status is 1 when the cell raised. */
export async function runInSession(dir: string, code: string, opts: SessionCliOptions): Promise<number> {
  const { session, close } = await openSession(dir, opts);
  const r = await session.run(code, { onStdout: (t) => process.stdout.write(t), onStderr: (t) => process.stderr.write(t) });
  printResult(r);
  await close();
  return r.ok ? 0 : 1;
}

/** Whether `source` needs more lines before it is a cell, the way Python's REPL decides:
 * open brackets, strings or a trailing backslash continue it, and a line that opens a
 * block (ends with `:` outside brackets) makes the cell go on until a blank line. */
export function needsMore(source: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  let line = ''; // the current line's code, without strings and comments
  let opensBlock = false;
  const endLine = () => {
    if (depth === 0 && line.trimEnd().endsWith(':')) opensBlock = true;
    line = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (source.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
        line += '""';
      } else if (c === '\n') {
        line = '';
      }
    } else if (c === '#') {
      while (i + 1 < source.length && source[i + 1] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length - 1;
    } else if (c === '\n') {
      endLine();
    } else {
      if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth--;
      line += c;
    }
  }
  const lastRaw = source.slice(source.lastIndexOf('\n') + 1);
  const last = line;
  endLine();
  if (quote || depth > 0 || last.endsWith('\\')) return true;
  return opensBlock && lastRaw.trim() !== '';
}

/** An interactive session in the terminal: `>>>` cells, `...` continuation, history. */
export async function repl(dir: string, opts: SessionCliOptions): Promise<void> {
  const { session, close } = await openSession(dir, opts);
  const historyFile = join(cacheRoot(), 'repl_history');
  let history: string[] = [];
  try {
    history = readFileSync(historyFile, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    /* first run */
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, history, historySize: 1000, terminal: process.stdin.isTTY });
  // Prompts and the banner only for a person at a terminal; piped input gets output alone.
  const interactive = Boolean(process.stdin.isTTY);
  const prompt = (p: string) => {
    rl.setPrompt(p);
    if (interactive) rl.prompt();
  };
  if (interactive) process.stdout.write(`tooliscode session on ${dir} (Python 3.11, WebAssembly). Ctrl-D to leave.\n`);
  let buffer: string[] = [];
  prompt('>>> ');
  for await (const line of rl) {
    buffer.push(line);
    const source = buffer.join('\n');
    if (needsMore(source)) {
      prompt('... ');
      continue;
    }
    buffer = [];
    if (source.trim()) {
      rl.pause();
      const r = await session.run(source, { onStdout: (t) => process.stdout.write(t), onStderr: (t) => process.stderr.write(t) });
      printResult(r);
      if (session.isClosed) break;
      rl.resume();
    }
    prompt('>>> ');
  }
  // Input ended inside a block: run what was typed, as Python does at end of file.
  const rest = buffer.join('\n');
  if (rest.trim() && !session.isClosed) {
    printResult(await session.run(rest, { onStdout: (t) => process.stdout.write(t), onStderr: (t) => process.stderr.write(t) }));
  }
  try {
    mkdirSync(dirname(historyFile), { recursive: true });
    writeFileSync(historyFile, `${[...(rl as unknown as { history: string[] }).history].reverse().join('\n')}\n`);
  } catch {
    /* history is a convenience */
  }
  rl.close();
  await close();
}
