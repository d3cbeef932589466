// Several MCP servers as one host: each server is a namespace of the SDK
// (`tools.kg.create_entities`), named after its config key or else its serverInfo.name,
// made a valid and unique Python name. The hub starts them together, gives `tic build`
// their tool lists and a session its handlers (`namespace.tool` -> that server).

import { basename } from 'node:path';
import { NameScope, SDK_EXPORTS, identifier } from '../../compiler/python/names.js';
import type { Handlers } from '../session.js';
import { type ServerRecord, type ServerSpec, serverRecord } from './config.js';
import { McpError, Upstream, type UpstreamOptions } from './upstream.js';

/** A name for a server before it says its own: its config key, else the package or script it runs. */
function provisionalName(spec: ServerSpec): string {
  if (spec.name) return spec.name;
  if (spec.transport !== 'stdio') {
    const u = new URL(spec.url);
    return u.hostname + (u.port ? `_${u.port}` : '');
  }
  const words = [spec.command, ...spec.args].filter((w) => !w.startsWith('-'));
  // `npx -y @scope/server-x /data` -> server-x; `node path/to/server.js` -> server
  const pkg = words.find((w) => /^@?[\w.-]+\/[\w.-]+$/.test(w) && !w.startsWith('.') && !w.startsWith('/')) ?? words.find((w) => /\.[cm]?[jt]s$|\.py$/.test(w)) ?? words[0]!;
  return basename(pkg).replace(/\.[cm]?[jt]s$|\.py$/, '');
}

/** One server of the hub. */
export interface HubServer {
  /** Its namespace in the SDK (a Python identifier). */
  namespace: string;
  upstream: Upstream;
  spec: ServerSpec;
}

/** A tool list for `build()`, with the server it came from. */
export interface ServerToolList {
  namespace: string;
  label: string;
  list: { tools: unknown[] };
  server: ServerRecord;
}

export class McpHub {
  private constructor(readonly servers: HubServer[]) {}

  /**
   * Starts every server at once and names its namespace. Servers that fail to start are
   * in `failures` (their McpError names them and what they were doing); they stay in the
   * hub, and their next call tries once more.
   */
  static async start(
    specs: ServerSpec[],
    options: UpstreamOptions & {
      /** A namespace already decided for a server (e.g. the one an earlier build gave it). */
      namespaceOf?: (spec: ServerSpec) => string | undefined;
    } = {},
  ): Promise<{ hub: McpHub; failures: McpError[] }> {
    const upstreams = specs.map((spec) => new Upstream(provisionalName(spec), spec, options));
    const results = await Promise.allSettled(upstreams.map((u) => u.start()));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof McpError ? r.reason : new McpError(String(r.reason))] : []));
    const given = specs.map((spec) => options.namespaceOf?.(spec));
    const scope = new NameScope([...SDK_EXPORTS, ...given.filter((n) => n !== undefined)], true);
    const servers = upstreams.map((upstream, i) => {
      const spec = specs[i]!;
      const namespace = given[i] ?? scope.allocate(identifier(spec.name ?? upstream.serverInfo?.name ?? upstream.label, 'snake'));
      upstream.label = spec.name ?? namespace;
      return { namespace, upstream, spec };
    });
    return { hub: new McpHub(servers), failures };
  }

  get(namespace: string): HubServer | undefined {
    return this.servers.find((s) => s.namespace === namespace);
  }

  /** The tool lists of the servers that started, one namespace each, for `build()`. */
  toolLists(): ServerToolList[] {
    return this.servers
      .filter((s) => s.upstream.state === 'ready')
      .map((s) => ({ namespace: s.namespace, label: `MCP server ${JSON.stringify(s.upstream.label)}`, list: { tools: s.upstream.tools }, server: serverRecord(s.spec) }));
  }

  /**
   * Handlers for `tools` (a build's tool list: original name and namespace), each
   * forwarding to the server of its namespace. Tools of a namespace no server here has
   * fail, saying so. A build of one
   * server's tools without namespaces (from a file `tic list-tools` wrote) goes to the
   * hub's one server.
   */
  handlers(tools: { name: string; namespace?: string }[]): Handlers {
    const handlers: Handlers = {};
    const only = this.servers.length === 1 ? this.servers[0] : undefined;
    for (const t of tools) {
      const server = t.namespace !== undefined ? this.get(t.namespace) : only;
      const key = t.namespace !== undefined ? `${t.namespace}.${t.name}` : t.name;
      if (server) handlers[key] = (args: Record<string, unknown>) => server.upstream.call(t.name, args);
      else if (t.namespace !== undefined) {
        handlers[key] = () => {
          throw new McpError(`no MCP server was given for ${JSON.stringify(t.namespace)}, so its tools cannot be called`);
        };
      }
    }
    return handlers;
  }

  /** Tools of every server that started, as `{name, namespace}`: what `handlers()` takes. */
  get tools(): { name: string; namespace: string }[] {
    return this.servers.flatMap((s) => s.upstream.tools.map((t) => ({ name: t.name, namespace: s.namespace })));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.upstream.close()));
  }
}

/**
 * For servers given to run an earlier build: the namespace the build gave each, found by
 * how the server is reached (the manifest's record), else by its config key.
 */
export function namespacesOfBuild(inputs: { server?: unknown; namespace?: string }[]): (spec: ServerSpec) => string | undefined {
  const byRecord = new Map(inputs.filter((i) => i.server !== undefined && i.namespace !== undefined).map((i) => [JSON.stringify(i.server), i.namespace!]));
  const namespaces = new Set(inputs.map((i) => i.namespace).filter((n) => n !== undefined));
  return (spec) => {
    const found = byRecord.get(JSON.stringify(serverRecord(spec)));
    if (found) return found;
    const key = spec.name !== undefined ? identifier(spec.name, 'snake') : undefined;
    return key !== undefined && namespaces.has(key) ? key : undefined;
  };
}
