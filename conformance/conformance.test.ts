// The conformance suite as part of `npm test`: every case passes, every topic has cases,
// and for every topic a deliberately broken runtime or compiler fails at least one case.
import { describe, expect, it } from 'vitest';
import { type CaseResult, type Mutations, discover, runConformance } from './runner.js';
import type { Handlers } from '../runtime/session.js';

const TOPICS = ['bad-input', 'calls', 'cells-and-state', 'isolation', 'schema-mapping'];

describe('the conformance suite', () => {
  it('passes on this build, with cases in every topic', async () => {
    const results = await runConformance();
    const failed = results.filter((r) => !r.ok).map((r) => `${r.topic}/${r.file}: ${r.name}: ${r.failure}`);
    expect(failed).toEqual([]);
    const perTopic = new Map<string, number>();
    for (const r of results) perTopic.set(r.topic, (perTopic.get(r.topic) ?? 0) + 1);
    expect([...perTopic.keys()].sort()).toEqual(TOPICS);
    for (const [topic, n] of perTopic) expect(n, topic).toBeGreaterThanOrEqual(8);
    expect(discover().length).toBeGreaterThanOrEqual(15);
  }, 300_000);
});

// Each mutation stands for a plausible defect; the topic's cases must catch it.
const BROKEN: Record<string, Mutations> = {
  // A runtime that drops the last argument of every call.
  calls: {
    handlers: (h: Handlers) =>
      Object.fromEntries(Object.entries(h).map(([k, fn]) => [k, (args: Record<string, unknown>) => fn(Object.fromEntries(Object.entries(args).slice(0, -1)))])),
  },
  // A runtime that loses the last character of stdout.
  'cells-and-state': { result: (r) => ({ ...r, stdout: r.stdout.slice(0, -1) }) },
  // A runtime whose file system errors come back as the wrong exception type.
  isolation: { result: (r) => (r.error ? { ...r, error: { ...r.error, type: r.error.type === 'PermissionError' ? 'FileNotFoundError' : r.error.type } } : r) },
  // A compiler that ignores `required`.
  'schema-mapping': { toolsText: (t) => t.replace(/"required":\[[^\]]*\]/g, '"required":[]') },
  // A compiler that leaves the JSON path out of its messages.
  'bad-input': { buildError: (m) => m.replace(/tools\[\d+\][^:]*:/, '') },
};

describe('a broken runtime or compiler fails each topic', () => {
  it.each(Object.entries(BROKEN))('%s', async (topic, mutations) => {
    const results: CaseResult[] = await runConformance({ filter: topic, mutations });
    expect(results.length).toBeGreaterThan(0);
    expect(results.filter((r) => !r.ok).length, `no ${topic} case noticed the defect`).toBeGreaterThan(0);
  }, 300_000);
});
