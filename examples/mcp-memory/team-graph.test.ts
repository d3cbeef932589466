import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../runtime/package-root.js';
import { main } from './team-graph.js';

describe('the knowledge-graph example', () => {
  it('builds the same graph as the direct calls (checked inside) and answers the query', async () => {
    const r = await main();
    expect(r.rust.length).toBeGreaterThan(3);
    expect(r.answer).toContain('54 entities, ');
    expect(r.ratio).toBeLessThan(0.5);
  }, 300_000);

  it('runs as one command from the build', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(packageRoot(), 'build', 'examples', 'mcp-memory', 'team-graph.js')], { env: process.env });
    expect(stdout).toMatch(/people know Rust/);
    expect(stdout).toMatch(/^code mode used \d+\.\d% of the tokens of direct tool calls$/m);
  }, 300_000);
});
