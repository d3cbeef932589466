// Which MCP servers to reach, and how: the `mcpServers` file MCP clients use, and the
// `--mcp` / `--mcp-url` / `--header` options of the CLI, as one list of server specs.
// The file is checked with ajv against CONFIG_SCHEMA; every problem is reported with its
// JSON path (`servers.json: mcpServers.kg.command: expected a string`).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { CompileError, type Diagnostic, child } from '../../compiler/diagnostics.js';

interface SpecBase {
  /** The server's key in the config file; undefined for `--mcp`/`--mcp-url` (its serverInfo.name is used). */
  name?: string;
  /** Where it was given, for messages: `servers.json: mcpServers.kg`, `--mcp "node server.js"`. */
  origin: string;
}

export interface StdioServerSpec extends SpecBase {
  transport: 'stdio';
  command: string;
  args: string[];
  /** Added to the few variables every server inherits (PATH, HOME, ...). Values are secrets. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface HttpServerSpec extends SpecBase {
  /** `http`: Streamable HTTP; `sse`: the older HTTP+SSE transport. */
  transport: 'http' | 'sse';
  url: string;
  /** Sent with every request. Values are secrets. */
  headers?: Record<string, string>;
}

export type ServerSpec = StdioServerSpec | HttpServerSpec;

/** How a server is reached, as a build's manifest records it: names of env vars and headers, never their values. */
export type ServerRecord =
  | { transport: 'stdio'; command: string; args: string[]; cwd?: string; env?: string[] }
  | { transport: 'http' | 'sse'; url: string; headers?: string[] };

const TRANSPORTS = ['stdio', 'http', 'streamable-http', 'streamableHttp', 'streamable_http', 'sse'] as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

/** The `mcpServers` file of MCP clients (Claude Desktop, Cursor, Claude Code; VS Code's `servers`). */
export const CONFIG_SCHEMA = {
  type: 'object',
  properties: {
    mcpServers: { type: 'object', additionalProperties: { $ref: '#/definitions/server' } },
    servers: { type: 'object', additionalProperties: { $ref: '#/definitions/server' } },
  },
  definitions: {
    server: {
      type: 'object',
      properties: {
        command: { type: 'string', minLength: 1 },
        args: { type: 'array', items: { type: 'string' } },
        env: stringMap,
        cwd: { type: 'string' },
        url: { type: 'string', minLength: 1 },
        headers: stringMap,
        type: { enum: TRANSPORTS },
        transport: { enum: TRANSPORTS },
        disabled: { type: 'boolean' },
      },
    },
  },
} as const;

let compiled: ValidateFunction | undefined;

/** The config's validator, compiled on first use: ajv is not loaded by `import 'tooliscode'`. */
function configValidator(): ValidateFunction {
  if (compiled) return compiled;
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return (compiled = new Ajv({ allErrors: true, strict: false }).compile(CONFIG_SCHEMA));
}

const A = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** An ajv error as `path: what was expected`, in the form the compiler reports. */
function describe(e: ErrorObject): { path: string; message: string } {
  const segments = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const path = segments.reduce<string>((p, s) => child(p, /^\d+$/.test(s) && p.endsWith('args') ? Number(s) : s), '');
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const t = String(params.type);
      return { path, message: `expected ${t === 'object' && segments.length === 2 ? 'an object with "command" or "url"' : A(t)}` };
    }
    case 'enum':
      return { path, message: `expected one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'minLength':
      return { path, message: 'must not be empty' };
    default:
      return { path, message: e.message ?? 'is invalid' };
  }
}

/** `${VAR}` and `${VAR:-default}` in a value, from the environment (as Claude Code reads .mcp.json). */
function expandEnv(value: string, at: string, errors: { path: string; message: string }[], env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    errors.push({ path: at, message: `environment variable ${name} is not set (used as ${whole})` });
    return '';
  });
}

function transportOf(raw: Record<string, unknown>): 'stdio' | 'http' | 'sse' | undefined {
  const t = (raw.type ?? raw.transport) as string | undefined;
  if (t === undefined) return undefined;
  return t === 'stdio' ? 'stdio' : t === 'sse' ? 'sse' : 'http';
}

/**
 * Reads the servers of a config text. `file` names it in messages; relative `cwd`s are
 * resolved against its folder. Throws CompileError with one diagnostic per problem.
 */
export function parseServersConfig(file: string, text: string, env: NodeJS.ProcessEnv = process.env): ServerSpec[] {
  const fail = (problems: { path: string; message: string }[]): never => {
    throw new CompileError(problems.map((p): Diagnostic => ({ severity: 'error', file, path: p.path, message: p.message })));
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    fail([{ path: '', message: `malformed JSON: ${(err as Error).message.replace(/^.*?: /, '')}` }]);
  }
  const validateConfig = configValidator();
  if (!validateConfig(data)) {
    const seen = new Set<string>();
    const problems = validateConfig.errors!.map(describe).filter((p) => !seen.has(`${p.path}\0${p.message}`) && seen.add(`${p.path}\0${p.message}`));
    fail(problems);
  }
  const root = data as { mcpServers?: Record<string, Record<string, unknown>>; servers?: Record<string, Record<string, unknown>> };
  const key = root.mcpServers ? 'mcpServers' : root.servers ? 'servers' : undefined;
  if (!key) fail([{ path: '', message: 'expected {"mcpServers": {"NAME": {"command": ..., "args": [...]} or {"url": ...}}}' }]);
  const entries = Object.entries(root[key as 'mcpServers']!);
  const problems: { path: string; message: string }[] = [];
  const specs: ServerSpec[] = [];
  for (const [name, raw] of entries) {
    const at = child(key!, name);
    if (raw.disabled === true) continue;
    const declared = transportOf(raw);
    const hasCommand = typeof raw.command === 'string';
    const hasUrl = typeof raw.url === 'string';
    if (hasCommand && hasUrl) {
      problems.push({ path: at, message: 'give either "command" (a stdio server) or "url" (an HTTP server), not both' });
      continue;
    }
    if (!hasCommand && !hasUrl) {
      problems.push({ path: at, message: 'expected "command" (a stdio server) or "url" (an HTTP server)' });
      continue;
    }
    if (hasCommand && declared && declared !== 'stdio') {
      problems.push({ path: child(at, raw.type !== undefined ? 'type' : 'transport'), message: `"${String(raw.type ?? raw.transport)}" needs "url", not "command"` });
      continue;
    }
    if (hasUrl && declared === 'stdio') {
      problems.push({ path: child(at, raw.type !== undefined ? 'type' : 'transport'), message: '"stdio" needs "command", not "url"' });
      continue;
    }
    const origin = `${file}: ${at}`;
    const expandMap = (m: unknown, path: string) =>
      m === undefined ? undefined : Object.fromEntries(Object.entries(m as Record<string, string>).map(([k, v]) => [k, expandEnv(v, child(path, k), problems, env)]));
    if (hasCommand) {
      const env_ = expandMap(raw.env, child(at, 'env'));
      const cwd = typeof raw.cwd === 'string' ? resolve(dirname(resolve(file)), expandEnv(raw.cwd, child(at, 'cwd'), problems, env)) : undefined;
      specs.push({
        name,
        origin,
        transport: 'stdio',
        command: expandEnv(raw.command as string, child(at, 'command'), problems, env),
        args: ((raw.args as string[] | undefined) ?? []).map((a, i) => expandEnv(a, child(child(at, 'args'), i), problems, env)),
        ...(env_ ? { env: env_ } : {}),
        ...(cwd ? { cwd } : {}),
      });
    } else {
      const url = expandEnv(raw.url as string, child(at, 'url'), problems, env);
      const bad = checkUrl(url);
      if (bad) problems.push({ path: child(at, 'url'), message: bad });
      const headers = expandMap(raw.headers, child(at, 'headers'));
      specs.push({ name, origin, transport: declared === 'sse' ? 'sse' : 'http', url, ...(headers ? { headers } : {}) });
    }
  }
  if (problems.length) fail(problems);
  if (specs.length === 0) fail([{ path: key!, message: entries.length ? 'every server is disabled' : 'no servers' }]);
  return specs;
}

export function loadServersConfig(file: string, env: NodeJS.ProcessEnv = process.env): ServerSpec[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CompileError([{ severity: 'error', file, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseServersConfig(file, text, env);
}

function checkUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `expected an http:// or https:// URL, got ${JSON.stringify(url)}`;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : `expected an http:// or https:// URL, got ${JSON.stringify(url)}`;
}

/** `node server.js /data` -> ['node', 'server.js', '/data']; double or single quotes group words. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}

export class ServerOptionError extends Error {
  override name = 'ServerOptionError';
}

export interface ServerOptions {
  /** Stdio server command lines (`--mcp`), split on spaces; quotes group words. */
  mcp?: string[];
  /** Streamable HTTP server URLs (`--mcp-url`). */
  mcpUrl?: string[];
  /** `NAME:VALUE` headers sent to every `--mcp-url` server (`--header`). */
  header?: string[];
  /** An `mcpServers` config file (`--config`). */
  config?: string;
}

/** The servers the CLI options name: the config file's first, then `--mcp`, then `--mcp-url`. */
export function serverSpecsFromOptions(o: ServerOptions, env: NodeJS.ProcessEnv = process.env): ServerSpec[] {
  const specs: ServerSpec[] = o.config ? loadServersConfig(o.config, env) : [];
  for (const line of o.mcp ?? []) {
    const [command, ...args] = splitCommand(line);
    if (!command) throw new ServerOptionError('--mcp: give the server command, e.g. --mcp "npx -y @modelcontextprotocol/server-memory"');
    specs.push({ origin: `--mcp ${JSON.stringify(line)}`, transport: 'stdio', command, args });
  }
  const headers: Record<string, string> = {};
  for (const h of o.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new ServerOptionError(`--header ${JSON.stringify(h)}: expected NAME:VALUE`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  if (o.header?.length && !o.mcpUrl?.length) throw new ServerOptionError('--header applies to --mcp-url servers; give --mcp-url too');
  for (const url of o.mcpUrl ?? []) {
    const bad = checkUrl(url);
    if (bad) throw new ServerOptionError(`--mcp-url: ${bad}`);
    specs.push({ origin: `--mcp-url ${url}`, transport: 'http', url, ...(o.header?.length ? { headers } : {}) });
  }
  return specs;
}

/** A URL with any password and query values hidden: what a manifest or a log may show. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '***');
    return u.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    return url;
  }
}

/** How a server is reached, without any secret: env and header names only, a redacted URL. */
export function serverRecord(spec: ServerSpec): ServerRecord {
  if (spec.transport === 'stdio') {
    return {
      transport: 'stdio',
      command: spec.command,
      args: spec.args,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.env && Object.keys(spec.env).length ? { env: Object.keys(spec.env).sort() } : {}),
    };
  }
  return { transport: spec.transport, url: redactUrl(spec.url), ...(spec.headers && Object.keys(spec.headers).length ? { headers: Object.keys(spec.headers).sort() } : {}) };
}

/** One line saying which server this is, for messages and logs (no secrets). */
export function describeServer(spec: ServerSpec): string {
  return spec.transport === 'stdio' ? [spec.command, ...spec.args].join(' ') : redactUrl(spec.url);
}

/**
 * A server spec back from a build's manifest record, to reach the servers of an earlier
 * build without naming them again. Env values come from `env` (this process's
 * environment) by the recorded names; header values are not recorded, so such a server
 * needs its options again (the result says which names are missing).
 */
export function specFromRecord(record: ServerRecord, name: string, env: NodeJS.ProcessEnv = process.env): { spec: ServerSpec; missing: string[] } {
  const origin = `the manifest's record of ${JSON.stringify(name)}`;
  if (record.transport === 'stdio') {
    const missing = (record.env ?? []).filter((k) => env[k] === undefined);
    const values = Object.fromEntries((record.env ?? []).filter((k) => env[k] !== undefined).map((k) => [k, env[k]!]));
    return {
      spec: { name, origin, transport: 'stdio', command: record.command, args: record.args, ...(record.cwd ? { cwd: record.cwd } : {}), ...(record.env?.length ? { env: values } : {}) },
      missing,
    };
  }
  return {
    spec: { name, origin, transport: record.transport, url: record.url },
    missing: [...(record.headers ?? []).map((h) => `header ${h}`), ...(record.url.includes('***') ? ['the values hidden in its URL'] : [])],
  };
}
