// One attack of runtime/hostile.test.ts, in a process of its own (a crash would otherwise
// take the test runner down): node hostile-child.mjs <built guest dir> <attack> [json args].
// An attacker session runs the attack while an innocent session of the same process keeps
// answering; the last line of stdout is a JSON report for the test to judge.
import { readFileSync } from 'node:fs';

const { loadGuest } = await import(new URL('../build/runtime/guest.js', import.meta.url).href);
const [dir, attack, argsFile] = process.argv.slice(2);
const args = argsFile ? JSON.parse(readFileSync(argsFile, 'utf8')) : {};

// A recursive result as deep as the cell asks; a string result as long as it asks.
const nest = (depth) => {
  let node = {};
  for (let i = 0; i < depth; i++) node = { c: node };
  return node;
};
const handlers = {
  echo: (a) => a,
  tree: (a) => nest(a.depth),
  blob: (a) => 'x'.repeat(a.bytes),
  deep_args: () => 'ok',
};
const calls = [];
const guest = await loadGuest(dir, { warm: 0 });
const limits = { timeoutMs: 60_000, ...(args.limits ?? {}) };
const attacker = await guest.createSession({ handlers, limits });
const innocent = await guest.createSession({ handlers, limits });
await innocent.run('secret = 41');
const report = { attack };
const alive = async () => (await innocent.run('secret + 1')).value === '42';
const run = (code) => attacker.run(code, { onToolCall: (e) => calls.push(e.name) });
const rssBefore = process.memoryUsage().rss;

switch (attack) {
  case 'payloads': {
    // Random and mutated host-call payloads, in batches; the innocent session answers after each.
    const batches = args.batches;
    report.batches = [];
    for (const batch of batches) {
      const r = await run(`
import _tic_host, base64
_errors = {}
for _p in ${JSON.stringify(batch)}:
    try:
        _r = _tic_host.call(base64.b64decode(_p))
        _k = 'reply'
    except BaseException as e:
        _k = type(e).__name__
    _errors[_k] = _errors.get(_k, 0) + 1
_errors`);
      report.batches.push({ ok: r.ok, value: r.value, error: r.error?.message, innocent: await alive() });
    }
    break;
  }
  case 'null': {
    const r = await run('import _tic_host\n_tic_host.call(b"null")');
    report.value = r.value;
    report.error = r.error?.message;
    break;
  }
  case 'deep-result': {
    const r = await run(`
ok = tools.tree(depth=50)
try:
    tools.tree(depth=${args.depth})
    bad = 'no error'
except tools.ToolError as e:
    bad = type(e).__name__ + ': ' + str(e)
(isinstance(ok, dict), bad)`);
    report.value = r.value;
    report.error = r.error?.message;
    break;
  }
  case 'big-result': {
    const r = await run(`
try:
    tools.blob(bytes=${args.bytes})
    out = 'no error'
except tools.ToolError as e:
    out = type(e).__name__ + ': ' + str(e)
out`);
    report.value = r.value;
    report.error = r.error?.message;
    break;
  }
  case 'many-keys': {
    // A request the worker must refuse before the main thread parses it.
    const both = await Promise.all([
      run(`
import _tic_host, json
req = b'{"op": "call", "tool": "echo", "args": {' + b'"k": 0, ' * ${args.keys} + b'"z": 0}}'
json.loads(_tic_host.call(req))`),
      alive(),
    ]);
    report.value = both[0].value;
    report.error = both[0].error?.message;
    break;
  }
  case 'deep-args': {
    const r = await run(`
import _tic_host, json
req = '{"op": "call", "tool": "deep_args", "args": {"a": ' + '[' * ${args.depth} + ']' * ${args.depth} + '}}'
json.loads(_tic_host.call(req.encode()))`);
    report.value = r.value;
    report.error = r.error?.message;
    break;
  }
  default:
    throw new Error(`unknown attack ${attack}`);
}

report.calls = calls;
report.innocentAlive = await alive();
report.attackerAlive = (await attacker.run('1 + 1')).value === '2';
report.rssGrowthMb = Math.round((process.resourceUsage().maxRSS * 1024 - rssBefore) / 1048576);
await Promise.all([attacker.close(), innocent.close(), guest.close()]);
console.log(JSON.stringify(report));
process.exit(0);
