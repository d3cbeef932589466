// The conformance suite as part of `npm test`: every case passes, every topic has cases,
// and for every topic a deliberately broken runtime or compiler fails at least one case.
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identifier } from '../compiler/python/names.js';
import type { Handlers } from '../runtime/session.js';
import { type CaseResult, type Mutations, discover, runConformance } from './runner.js';

const TOPICS = ['bad-input', 'calls', 'cells', 'input-shapes', 'isolation', 'limits', 'names', 'prompt', 'results', 'schema-mapping', 'workspace'];

describe('the conformance suite', () => {
  it('passes on this build: at least 200 cases, spread over every topic', async () => {
    const results = await runConformance();
    const failed = results.filter((r) => !r.ok).map((r) => `${r.topic}/${r.file}: ${r.name}: ${r.failure}`);
    expect(failed).toEqual([]);
    const perTopic = new Map<string, number>();
    for (const r of results) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
    expect([...perTopic.keys()].sort()).toEqual(TOPICS);
    for (const [topic, n] of perTopic) expect(n, topic).toBeGreaterThanOrEqual(8);
    expect(results.length).toBeGreaterThanOrEqual(200);
    expect(discover().length).toBeGreaterThanOrEqual(40);
  }, 900_000);
});

/** Each handler, wrapped: `f` sees the arguments and the result on their way. */
const wrap = (f: (args: Record<string, unknown>, call: (a: Record<string, unknown>) => Promise<unknown>) => Promise<unknown>) => (h: Handlers) =>
  Object.fromEntries(Object.entries(h).map(([k, fn]) => [k, (args: Record<string, unknown>) => f(args, async (a) => fn(a))]));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

// Each mutation stands for a plausible defect; the topic's cases must catch it.
const BROKEN: Record<string, Mutations> = {
  // A runtime that drops the last argument of every call.
  calls: { handlers: wrap((args, call) => call(Object.fromEntries(Object.entries(args).slice(0, -1)))) },
  // A runtime that loses the last character of stdout.
  cells: { result: (r) => ({ ...r, stdout: r.stdout.slice(0, -1) }) },
  // A loader that does not read descriptions.
  'input-shapes': { toolsText: (t) => t.replace(/(["']?)description\1(\s*):/g, '$1x-description$1$2:') },
  // A runtime whose file system errors come back as the wrong exception type.
  isolation: { result: (r) => (r.error ? { ...r, error: { ...r.error, type: r.error.type === 'PermissionError' ? 'FileNotFoundError' : r.error.type } } : r) },
  // A runtime that enforces every limit at twice its value.
  limits: { limits: (l) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, (v as number) * 2])) },
  // A runtime that sends the Python names of the arguments instead of the schema's.
  names: { handlers: wrap((args, call) => call(Object.fromEntries(Object.entries(args).map(([k, v]) => [identifier(k, 'keep'), v])))) },
  // A compiler whose prompt leaves the defaults and the namespaces out.
  prompt: { prompt: (t) => t.replace(/ = [^,)\n]+/g, '').replace(/^# tools\.\w+\n/gm, '') },
  // A runtime that ignores structuredContent.
  results: {
    handlers: wrap(async (args, call) => {
      const r = await call(args);
      if (typeof r === 'object' && r !== null && 'structuredContent' in r) {
        const { structuredContent: _drop, ...rest } = r as Record<string, unknown>;
        return rest;
      }
      return r;
    }),
  },
  // A compiler that ignores `required`.
  'schema-mapping': { toolsText: (t) => t.replace(/"required":\[[^\]]*\]/g, '"required":[]') },
  // A compiler that leaves the JSON path out of its messages.
  'bad-input': { buildError: (m) => m.replace(/(tools|result\.tools)?\[\d+\][^:]*:/g, '') },
  // A workspace that loses the last byte of every file it writes back.
  workspace: {
    workspace: (dir) => {
      for (const f of files(dir)) if (statSync(f).size > 0) truncateSync(f, statSync(f).size - 1);
    },
  },
};

describe('a broken runtime or compiler fails each topic', () => {
  it('has a mutation for every topic', () => expect(Object.keys(BROKEN).sort()).toEqual(TOPICS));
  it.each(Object.entries(BROKEN))('%s', async (topic, mutations) => {
    const results: CaseResult[] = await runConformance({ topics: [topic], mutations, bail: true });
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.ok).length, `no ${topic} case noticed the defect`).toBeGreaterThan(0);
  }, 300_000);
});
