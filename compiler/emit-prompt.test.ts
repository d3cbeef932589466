import { describe, expect, it } from 'vitest';
import { Diagnostics } from './diagnostics.js';
import { emitPrompt, firstSentence, restatesName } from './emit-prompt.js';
import { emitPython } from './emit-python.js';
import { loadToolsText } from './load.js';
import { normalize } from './normalize.js';

const tools = {
  tools: [
    {
      name: 'search-issues',
      description: 'Search issues by text. Matches titles and bodies.\n\nUses the index.',
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'Search text. Supports quotes.' },
          state: { enum: ['open', 'closed'], default: 'open', description: 'Issue state' },
          repo: { type: 'string', description: 'Repository name' },
          limit: { type: 'integer' },
        },
        required: ['query', 'repo'],
      },
    },
    { name: 'get_issue', description: 'Get one issue.', inputSchema: { type: 'object', properties: { repo: { type: 'string', description: 'Repository name' }, number: { type: 'integer' } }, required: ['repo', 'number'] } },
  ],
};
const sdk = emitPython(normalize(loadToolsText('t.json', JSON.stringify(tools))).tools, { moduleName: 'tools', version: '0', sources: [] }, new Diagnostics('t.json'));

describe('prompt.md', () => {
  it('gives exact signatures: names, types, required first, enums and defaults', () => {
    const p = emitPrompt(sdk, { moduleName: 'tools', style: 'compact' });
    expect(p).toContain('def search_issues(query: str, repo: str, *, state: Literal["open", "closed"] = "open", limit: int = None)');
    expect(p).toContain('def get_issue(repo: str, number: int)');
  });

  it('full keeps whole descriptions; compact keeps first sentences and drops docs that restate the name', () => {
    const full = emitPrompt(sdk, { moduleName: 'tools', style: 'full' });
    const compact = emitPrompt(sdk, { moduleName: 'tools', style: 'compact' });
    expect(full).toContain('# Search issues by text. Matches titles and bodies. Uses the index.');
    expect(compact).toContain('# Search issues by text.\n');
    expect(full).toContain('# state: Issue state');
    expect(compact).not.toContain('state: Issue state');
    expect(compact).toContain('# query: Search text.\n');
    // said once for both tools
    expect(compact.match(/repo: Repository name/g)).toHaveLength(1);
    expect(compact.length).toBeLessThan(full.length);
  });

  it('index lists names and summaries and says how to read the rest in the sandbox', () => {
    const p = emitPrompt(sdk, { moduleName: 'tools', style: 'index' });
    expect(p).toContain('search_issues: Search issues by text.\nget_issue: Get one issue.');
    expect(p).toContain('help(tools.NAME)');
    expect(p).not.toContain('def ');
  });

  it('knows a restating description', () => {
    expect(restatesName('Repository name', 'name', 'create_repository')).toBe(true);
    expect(restatesName('The name of the entity', 'name', 'Entity')).toBe(true);
    expect(restatesName('Page number for pagination (default: 1)', 'page', 'list_issues')).toBe(false);
  });
});

describe('firstSentence', () => {
  it('never cuts at an abbreviation, a number, a version, a URL or code', () => {
    const kept = [
      'product SKU, e.g. A-100',
      'The ID, i.e. the number after the slash',
      'Labels, tags, etc. as a list',
      'Needs API v1.2.3 or newer',
      'Needs version 2.0. or newer',
      'A ratio such as 0.75 or 3.5',
      'See https://example.com/docs/v1.2. For details',
      'Mirrors http://a.b/c?d=1 as is',
      'The address (cf. RFC 5322) of the sender',
      'Set by J. Smith as the owner',
      'Runs `a.b. c` first',
      'Compares a vs. b in place',
    ];
    for (const text of kept) expect(firstSentence(text)).toBe(text);
    expect(firstSentence('Search text. Supports quotes.')).toBe('Search text.');
    expect(firstSentence('Find the SKU, e.g. A-100. Then order it.')).toBe('Find the SKU, e.g. A-100.');
    expect(firstSentence('Uses v1.2.3 of the API (see the docs). Slow.')).toBe('Uses v1.2.3 of the API (see the docs).');
    expect(firstSentence('Really? Yes.')).toBe('Really?');
    expect(firstSentence('Done! Next.')).toBe('Done!');
    expect(firstSentence('One line\nand another. Two.')).toBe('One line');
  });

  it('keeps "e.g." whole in a compact prompt.md (the parameter of issue 19)', () => {
    const one = { tools: [{ name: 'order', description: 'Order a product, e.g. a book. Charges the card.', inputSchema: { type: 'object', properties: { sku: { type: 'string', description: 'product SKU, e.g. A-100' } }, required: ['sku'] } }] };
    const s = emitPython(normalize(loadToolsText('t.json', JSON.stringify(one))).tools, { moduleName: 'tools', version: '0', sources: [] }, new Diagnostics('t.json'));
    for (const style of ['compact', 'index'] as const) expect(emitPrompt(s, { moduleName: 'tools', style })).toContain('Order a product, e.g. a book.');
    expect(emitPrompt(s, { moduleName: 'tools', style: 'compact' })).toContain('# sku: product SKU, e.g. A-100\n');
  });
});
