// Host handlers for examples/issues: a fake issue tracker with 240 issues, so the demo
// runs anywhere. Typed by the tools.d.ts that `tic build` writes.
import type { ToolHandlers } from './dist/tools.js';

const words = ['crash', 'slow', 'docs', 'typo', 'build', 'flaky test', 'memory leak', 'timeout'];
const issues = Array.from({ length: 240 }, (_, i) => ({
  number: 240 - i,
  title: `${words[i % words.length]} in module ${i % 7}`,
  labels: i % 5 === 0 ? ['bug'] : i % 3 === 0 ? ['docs'] : [],
  comments: (i * 7) % 13,
  body: `Steps to reproduce issue ${240 - i}...`,
}));

export const handlers: ToolHandlers = {
  list_issues: async ({ page = 1, per_page = 30 }) => {
    await new Promise((r) => setTimeout(r, 5)); // a network hop, roughly
    const slice = issues.slice((page - 1) * per_page, page * per_page);
    return {
      issues: slice.map(({ body: _body, ...summary }) => summary),
      next_page: page * per_page < issues.length ? page + 1 : null,
    };
  },
  'get-issue': ({ number }) => {
    const issue = issues.find((i) => i.number === number);
    if (!issue) throw new Error(`no issue #${number}`);
    return issue;
  },
  add_label: ({ number, label }) => {
    const issue = issues.find((i) => i.number === number);
    if (!issue) throw new Error(`no issue #${number}`);
    issue.labels.push(label);
    return { ok: true, labels: issue.labels };
  },
};
