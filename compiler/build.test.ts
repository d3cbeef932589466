// tic build end to end: artifacts, a cell whose SDK calls reach the host with the
// original tool name and the exact JSON arguments, reproducible output, CLI errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syncHostCalls } from '../runtime/host-calls.js';
import { GuestInstance } from '../runtime/instance.js';
import { loadGuestImage } from '../runtime/load.js';
import { packageRoot } from '../runtime/package-root.js';
import { FIXTURES_DIR } from '../test-setup/sdk.js';
import { type BuildResult, build } from './build.js';

interface Seen {
  tool: string;
  namespace?: string;
  args: Record<string, unknown>;
}

/** A host that records each request and answers from `replies` (or echoes the arguments). */
function recordingHost(replies: Record<string, unknown> = {}) {
  const seen: Seen[] = [];
  const raw: string[] = [];
  const dispatch = syncHostCalls((req) => {
    seen.push(req as Seen);
    if (req.tool === 'fail') return { ok: false, error: { kind: 'tool', type: 'NotFound', message: 'no such thing' } };
    return { ok: true, value: replies[req.tool] ?? req.args };
  });
  const handler = (request: string) => {
    raw.push(request);
    return dispatch(request);
  };
  return { seen, raw, options: { hostCall: handler } };
}

describe('tic build on the memory fixture', () => {
  let out: string;
  let result: BuildResult;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'tic-build-'));
    result = await build({ inputs: [join(FIXTURES_DIR, 'memory.json')], outDir: out });
  });

  it('writes every artifact, hashed in the manifest', () => {
    expect(readdirSync(out).sort()).toEqual(['guest.wasm', 'manifest.json', 'prompt.md', 'sdk', 'stdlib.zip', 'tools.d.ts', 'tools.json', 'validators.cjs']);
    const m = result.manifest;
    expect(m.tools.map((t) => t.name)).toContain('create_entities');
    expect(m.python).toBe('3.11.2');
    expect(Object.keys(m.files)).toEqual(expect.arrayContaining(['guest.wasm', 'sdk/tools/__init__.py', 'prompt.md', 'tools.d.ts', 'validators.cjs']));
    expect(readFileSync(join(out, 'tools.d.ts'), 'utf8')).toContain('"create_entities": (args: CreateEntitiesArgs) => CreateEntitiesResult | Promise<CreateEntitiesResult>;');
    expect(readFileSync(join(out, 'prompt.md'), 'utf8')).toContain('def create_entities(entities: list[Entity]) -> CreateEntitiesResult');
  });

  it('starts sessions with the SDK already imported as `tools`; calls reach the host exactly', async () => {
    const { image } = await loadGuestImage(out);
    const host = recordingHost({ read_graph: { entities: [{ name: 'ada', entityType: 'person', observations: ['x'] }], relations: [] } });
    const g = new GuestInstance(image, host.options);
    const r = g.run(
      'import sys\n' +
        'loaded = "tools" in sys.modules\n' +
        'made = tools.create_entities([{"name": "ada", "entityType": "person", "observations": ["likes ✓", 3.5e-9]}])\n' +
        'tools.search_nodes("q")\n' +
        'graph = tools.read_graph()\n' +
        '(loaded, made["entities"][0]["name"], [e["name"] for e in graph["entities"]])',
    );
    expect(r.error).toBeUndefined();
    expect(r.value).toBe("(True, 'ada', ['ada'])");
    expect(host.raw[0]).toBe('{"op":"call","tool":"create_entities","args":{"entities":[{"name":"ada","entityType":"person","observations":["likes ✓",3.5e-09]}]}}');
    expect(host.seen.map((s) => s.tool)).toEqual(['create_entities', 'search_nodes', 'read_graph']);
    expect(host.seen[1]!.args).toEqual({ query: 'q' });
    expect(host.seen[2]!.args).toEqual({});
  });

  it('runs the aio variants from top-level await', async () => {
    const { image } = await loadGuestImage(out);
    const host = recordingHost();
    const g = new GuestInstance(image, host.options);
    const r = g.run('import asyncio\nres = await asyncio.gather(tools.aio.search_nodes("a"), tools.aio.open_nodes(["b"]))\nres');
    expect(r.error).toBeUndefined();
    expect(r.value).toBe("[{'query': 'a'}, {'names': ['b']}]");
  });

  it('a second build of the same input is byte-identical and reuses the snapshot', async () => {
    const again = mkdtempSync(join(tmpdir(), 'tic-build-'));
    const second = await build({ inputs: [join(FIXTURES_DIR, 'memory.json')], outDir: again });
    expect(second.snapshotCached).toBe(true);
    for (const [rel, hash] of Object.entries(result.manifest.files)) expect(second.manifest.files[rel], rel).toBe(hash);
    expect(readFileSync(join(again, 'manifest.json'), 'utf8')).toBe(readFileSync(join(out, 'manifest.json'), 'utf8'));
  });
});

describe('tic build with several files and without a snapshot', () => {
  it('namespaces tools by file, sends only what the cell passed, and raises host errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-ns-'));
    const extra = join(dir, 'misc.json');
    writeFileSync(
      extra,
      JSON.stringify([
        { type: 'function', function: { name: 'fail', parameters: { type: 'object', properties: {} } } },
        { type: 'function', function: { name: 'list-things', parameters: { type: 'object', properties: { sortBy: { enum: ['name', 'size'], default: 'name' }, limit: { type: 'integer' }, class: { type: 'string' } } } } },
      ]),
    );
    const out = join(dir, 'out');
    const result = await build({ inputs: [join(FIXTURES_DIR, 'memory.json'), extra], outDir: out, snapshot: false });
    expect(result.manifest.tools.find((t) => t.name === 'list-things')).toEqual({ name: 'list-things', pyName: 'list_things', namespace: 'misc' });
    const { image } = await loadGuestImage(out);
    const host = recordingHost();
    const g = new GuestInstance(image, host.options);
    const r = g.run('tools.misc.list_things(class_="c")\ntools.memory.read_graph()\ntry:\n    tools.misc.fail()\nexcept tools.ToolError as e:\n    print(e.type, e)');
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('NotFound no such thing\n');
    // The schema default of sortBy is documentation: only what the cell passed is sent.
    expect(host.seen[0]).toEqual({ tool: 'list-things', namespace: 'misc', args: { class: 'c' } });
    expect(host.seen[1]).toEqual({ tool: 'read_graph', namespace: 'memory', args: {} });
  });
});

describe('tic build errors from the command line', () => {
  const tic = (...args: string[]) => spawnSync(process.execPath, [join(packageRoot(), 'bin', 'tic.js'), ...args], { encoding: 'utf8' });

  it('exits 1 with one clear line naming file, path and tool; no stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tic-bad-'));
    const file = join(dir, 'tools.json');
    writeFileSync(file, JSON.stringify({ tools: [{ name: 'search', inputSchema: { type: 'object', properties: { limit: { type: 'integr' } } } }] }));
    const r = tic('build', file, '-o', join(dir, 'out'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`${file}: tools[0].inputSchema.properties.limit.type: expected a JSON Schema type (string, number, integer, boolean, object, array, null), got "integr" (tool "search")`);
  });

  it('names a missing file', () => {
    const r = tic('build', '/no/such/tools.json', '-o', join(tmpdir(), 'never'));
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('/no/such/tools.json: cannot read: ENOENT');
  });
});
