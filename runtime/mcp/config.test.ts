import { describe, expect, it } from 'vitest';
import { CompileError } from '../../compiler/diagnostics.js';
import { parseServersConfig, redactUrl, serverRecord, serverSpecsFromOptions, specFromRecord } from './config.js';

const parse = (config: unknown, env: NodeJS.ProcessEnv = {}) => parseServersConfig('/cfg/servers.json', JSON.stringify(config), env);
const problems = (config: unknown, env: NodeJS.ProcessEnv = {}) => {
  try {
    parse(config, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CompileError);
    return (err as Error).message.split('\n');
  }
  throw new Error('expected the config to be refused');
};

describe('the mcpServers config', () => {
  it('reads stdio and HTTP servers, the fields clients write, and ${VAR} from the environment', () => {
    const specs = parse(
      {
        mcpServers: {
          kg: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { MEMORY_FILE_PATH: '${HOME}/m.json', TOKEN: '${MISSING:-none}' }, cwd: 'sub' },
          remote: { type: 'http', url: 'https://example.com/mcp', headers: { Authorization: 'Bearer ${API_TOKEN}' } },
          legacy: { transport: 'sse', url: 'http://localhost:9/sse' },
          off: { command: 'nope', disabled: true },
          local: { type: 'stdio', command: 'node', autoApprove: [], timeout: 60 },
        },
        globalShortcut: 'Ctrl+Space',
      },
      { HOME: '/home/a', API_TOKEN: 's3cret' },
    );
    expect(specs.map((s) => [s.name, s.transport])).toEqual([
      ['kg', 'stdio'],
      ['remote', 'http'],
      ['legacy', 'sse'],
      ['local', 'stdio'],
    ]);
    expect(specs[0]).toMatchObject({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'], env: { MEMORY_FILE_PATH: '/home/a/m.json', TOKEN: 'none' }, cwd: '/cfg/sub' });
    expect(specs[1]).toMatchObject({ url: 'https://example.com/mcp', headers: { Authorization: 'Bearer s3cret' } });
    expect(specs[3]).toMatchObject({ args: [] });
  });

  it("accepts VS Code's `servers` key", () => {
    expect(parse({ servers: { a: { command: 'x' } } })[0]!.name).toBe('a');
  });

  it('names the JSON path of each problem', () => {
    expect(problems({ mcpServers: { kg: { command: 42 } } })).toEqual(['/cfg/servers.json: mcpServers.kg.command: expected a string']);
    expect(problems({ mcpServers: { kg: { command: 'x', args: ['a', 1], env: { A: true } } } })).toEqual([
      '/cfg/servers.json: mcpServers.kg.args[1]: expected a string',
      '/cfg/servers.json: mcpServers.kg.env.A: expected a string',
    ]);
    expect(problems({ mcpServers: { 'my.server': 'node x.js' } })).toEqual(['/cfg/servers.json: mcpServers["my.server"]: expected an object with "command" or "url"']);
    expect(problems({ mcpServers: { kg: { args: [] } } })).toEqual(['/cfg/servers.json: mcpServers.kg: expected "command" (a stdio server) or "url" (an HTTP server)']);
    expect(problems({ mcpServers: { kg: { command: 'x', url: 'http://a' } } })[0]).toContain('not both');
    expect(problems({ mcpServers: { kg: { url: 'http://a', type: 'websocket' } } })[0]).toMatch(/^\/cfg\/servers.json: mcpServers.kg.type: expected one of "stdio", "http"/);
    expect(problems({ mcpServers: { kg: { url: 'ftp://a' } } })).toEqual(['/cfg/servers.json: mcpServers.kg.url: expected an http:// or https:// URL, got "ftp://a"']);
    expect(problems({ mcpServers: { kg: { command: 'x', type: 'http' } } })).toEqual(['/cfg/servers.json: mcpServers.kg.type: "http" needs "url", not "command"']);
    expect(problems({ mcpServers: { kg: { command: 'x', env: { T: '${TOKEN}' } } } })).toEqual(['/cfg/servers.json: mcpServers.kg.env.T: environment variable TOKEN is not set (used as ${TOKEN})']);
    expect(problems({ mcpServers: [] })).toEqual(['/cfg/servers.json: mcpServers: expected an object']);
    expect(problems({ tools: [] })[0]).toContain('expected {"mcpServers"');
    expect(problems({ mcpServers: {} })).toEqual(['/cfg/servers.json: mcpServers: no servers']);
  });

  it('says where malformed JSON is', () => {
    expect(() => parseServersConfig('s.json', '{"mcpServers": {', {})).toThrow(/^s\.json: malformed JSON/);
  });
});

describe('the CLI server options', () => {
  it('splits --mcp command lines and applies --header to --mcp-url servers', () => {
    const specs = serverSpecsFromOptions({ mcp: ['node "my server.js" --flag'], mcpUrl: ['http://127.0.0.1:9/mcp'], header: ['Authorization: Bearer x', 'X-Team:a:b'] });
    expect(specs[0]).toMatchObject({ transport: 'stdio', command: 'node', args: ['my server.js', '--flag'] });
    expect(specs[1]).toMatchObject({ transport: 'http', headers: { Authorization: 'Bearer x', 'X-Team': 'a:b' } });
    expect(() => serverSpecsFromOptions({ mcpUrl: ['http://a'], header: ['nocolon'] })).toThrow('--header "nocolon": expected NAME:VALUE');
    expect(() => serverSpecsFromOptions({ header: ['A: b'] })).toThrow('--header applies to --mcp-url servers');
    expect(() => serverSpecsFromOptions({ mcpUrl: ['localhost:3000'] })).toThrow('--mcp-url: expected an http:// or https:// URL');
  });
});

describe('what a manifest records', () => {
  it('keeps names of env vars and headers, never their values, and hides URL secrets', () => {
    const [stdio, http] = parse(
      { mcpServers: { a: { command: 'srv', args: ['--x'], env: { TOKEN: 'value-1' } }, b: { url: 'https://u:pw@h/mcp?key=value-2', headers: { Authorization: 'value-3' } } } },
      {},
    );
    const records = JSON.stringify([serverRecord(stdio!), serverRecord(http!)]);
    for (const secret of ['value-1', 'value-2', 'value-3', 'pw']) expect(records).not.toContain(secret);
    expect(serverRecord(stdio!)).toEqual({ transport: 'stdio', command: 'srv', args: ['--x'], env: ['TOKEN'] });
    expect(serverRecord(http!)).toEqual({ transport: 'http', url: 'https://u:***@h/mcp?key=***', headers: ['Authorization'] });
    expect(redactUrl('http://h/mcp')).toBe('http://h/mcp');
  });

  it('turns a record back into a server, taking env values from the environment', () => {
    const { spec, missing } = specFromRecord({ transport: 'stdio', command: 'srv', args: [], env: ['TOKEN', 'OTHER'] }, 'kg', { TOKEN: 't' });
    expect(spec).toMatchObject({ name: 'kg', command: 'srv', env: { TOKEN: 't' } });
    expect(missing).toEqual(['OTHER']);
    expect(specFromRecord({ transport: 'http', url: 'https://h/mcp', headers: ['Authorization'] }, 'r').missing).toEqual(['header Authorization']);
  });
});
