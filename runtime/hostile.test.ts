// A hostile cell harms only its own session (issue #18): each attack runs in a process of
// its own (test-setup/hostile-child.mjs), beside an innocent session of the same process
// that must keep answering. A crash of the host process fails the test instead of taking
// the test runner down.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { build } from '../compiler/build.js';
import { packageRoot } from './package-root.js';

const TOOLS = {
  tools: [
    { name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
    {
      name: 'tree',
      description: 'A tree as deep as asked, checked against a recursive outputSchema.',
      inputSchema: { type: 'object', properties: { depth: { type: 'integer' } }, required: ['depth'] },
      outputSchema: { $ref: '#/$defs/node', $defs: { node: { type: 'object', properties: { c: { $ref: '#/$defs/node' } } } } },
    },
    { name: 'blob', inputSchema: { type: 'object', properties: { bytes: { type: 'integer' } }, required: ['bytes'] } },
    {
      name: 'deep_args',
      inputSchema: { type: 'object', properties: { a: { $ref: '#/$defs/list' } }, $defs: { list: { type: 'array', items: { $ref: '#/$defs/list' } } } },
    },
  ],
};

let dir: string;

beforeAll(async () => {
  const base = mkdtempSync(join(tmpdir(), 'tic-hostile-'));
  writeFileSync(join(base, 'tools.json'), JSON.stringify(TOOLS));
  await build({ inputs: [join(base, 'tools.json')], outDir: join(base, 'dist'), log: () => {} });
  dir = join(base, 'dist');
});

interface Report {
  value?: string;
  error?: string;
  calls: string[];
  innocentAlive: boolean;
  attackerAlive: boolean;
  rssGrowthMb: number;
  batches?: { ok: boolean; value?: string; error?: string; innocent: boolean }[];
}

/** Runs one attack in a child process; the process must exit 0 and both sessions must answer. */
function attack(name: string, args: Record<string, unknown> = {}): Report {
  const argsFile = join(mkdtempSync(join(tmpdir(), 'tic-attack-')), 'args.json');
  writeFileSync(argsFile, JSON.stringify(args));
  const child = spawnSync(process.execPath, [join(packageRoot(), 'test-setup', 'hostile-child.mjs'), dir, name, argsFile], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
  if (child.status !== 0) throw new Error(`the host process died (status ${child.status}, signal ${child.signal}, ${child.error?.message ?? ''}):\n${child.stderr?.slice(-3000)}`);
  const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as Report;
  expect(report.innocentAlive).toBe(true);
  expect(report.attackerAlive).toBe(true);
  return report;
}

describe('a hostile cell', () => {
  it('sends `null` as a host call: that call fails, the process lives', () => {
    const r = attack('null');
    expect(r.value).toMatch(/ProtocolError.*not a JSON object/);
  });

  it('sends 10,000 random and mutated host-call payloads: every one answered, the innocent session answers after each batch', () => {
    const valid = [
      '{"op": "call", "tool": "echo", "args": {"text": "x"}}',
      '{"op": "wait", "timeout": 0, "start": [{"id": 1, "tool": "echo", "args": {}}]}',
      '{"op": "call", "tool": "tree", "args": {"depth": 3}}',
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.nat(80), fc.nat(6), fc.string({ maxLength: 6 }))
      .map(([v, at, cut, insert]) => v.slice(0, at) + insert + v.slice(at + cut));
    const payload = fc.oneof(
      mutated,
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ op: fc.sample(fc.constantFrom('call', 'wait', 'x'), 1)[0], tool: 'echo', start: [v], args: v })),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const all = fc.sample(payload, { numRuns: 10_000, seed: 18 }).map((p) => Buffer.from(p, 'latin1').toString('base64'));
    const batches = Array.from({ length: 10 }, (_, i) => all.slice(i * 1000, (i + 1) * 1000));
    const r = attack('payloads', { batches });
    expect(r.batches).toHaveLength(10);
    for (const b of r.batches!) {
      expect(b.error).toBeUndefined();
      expect(b.innocent).toBe(true);
    }
    // Each payload was answered (a reply) or refused in the guest (a Python exception); the counts add up.
    const total = r.batches!.reduce((n, b) => n + [...b.value!.matchAll(/: (\d+)/g)].reduce((m, x) => m + Number(x[1]), 0), 0);
    expect(total).toBe(10_000);
  }, 600_000);

  it('returns a result nested 5,000 deep through a recursive outputSchema: ToolResultError, not a stack overflow', () => {
    const r = attack('deep-result', { depth: 5000 });
    expect(r.value).toMatch(/^\(True, 'ToolError: the result of tree\(\) cannot go to the guest: it is nested deeper than 256 levels/);
  });

  it('asks for a 300 MB tool result: refused before it is serialized, the host holds no copy of it', () => {
    const r = attack('big-result', { bytes: 300_000_000 });
    expect(r.value).toMatch(/ToolError: the result of blob\(\) cannot go to the guest: it is more than 16\.0 MB of JSON/);
    // The handler's own string is 300 MB; serializing and copying it cost 2-3x that before.
    expect(r.rssGrowthMb).toBeLessThan(700);
  }, 120_000);

  it('sends a call with 3 million keys, or 500,000 in 3 MB: refused by its own worker, never parsed by the main thread nor seen by a handler', () => {
    const huge = attack('many-keys', { keys: 3_000_000 });
    expect(huge.value).toMatch(/ToolArgumentError.*22\.9 MB or more, over this session's limit of 8\.0 MB \(limits\.maxCallBytes\); nothing was sent to the tool/);
    expect(huge.calls).toEqual([]);
    const many = attack('many-keys', { keys: 500_000 });
    expect(many.value).toMatch(/ToolArgumentError.*more than 100000 object keys; nothing was sent to the tool/);
    expect(many.calls).toEqual([]);
  }, 120_000);

  it('sends arguments nested 100,000 deep against a recursive inputSchema: refused, no stack overflow', () => {
    const r = attack('deep-args', { depth: 100_000 });
    expect(r.value).toMatch(/nested deeper than 256 levels/);
    expect(r.calls).toEqual([]);
  });
});
