// The peers tooliscode is measured against, in the same run: Pyodide from npm (fresh and
// from its memory snapshot), native python3, a bare `node -e 1`, and a stdio JSON-RPC
// child process (what a plain MCP tool call over stdio costs).

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Stats, stats } from './runtime.js';

type Pyodide = Awaited<ReturnType<typeof import('pyodide').loadPyodide>>;

let snapshot: Uint8Array | undefined;

export async function loadPyodideFresh(): Promise<Pyodide> {
  const { loadPyodide } = await import('pyodide');
  return loadPyodide();
}

/** Pyodide started from a memory snapshot made once per process (its fastest start). */
export async function loadPyodideFromSnapshot(): Promise<Pyodide> {
  const { loadPyodide } = await import('pyodide');
  if (!snapshot) {
    const maker = await loadPyodide({ _makeSnapshot: true } as Parameters<typeof loadPyodide>[0]);
    snapshot = (maker as unknown as { makeMemorySnapshot(): Uint8Array }).makeMemorySnapshot();
  }
  return loadPyodide({ _loadSnapshot: snapshot } as Parameters<typeof loadPyodide>[0]);
}

/** Microseconds per sync call from Python into a JavaScript function (Pyodide's FFI). */
export async function pyodideFfi(calls = 3000): Promise<Stats> {
  const py = await loadPyodideFromSnapshot();
  py.registerJsModule('host', { ping: (n: number) => n });
  const out = py.runPython(
    `import time, json\nfrom host import ping\nts = []\nfor i in range(${calls}):\n    t = time.perf_counter_ns()\n    ping(i)\n    ts.append(time.perf_counter_ns() - t)\njson.dumps(ts[200:])`,
  ) as string;
  return stats((JSON.parse(out) as number[]).map((ns) => ns / 1000));
}

/** Runs `code` (which must set `result`) in Pyodide; returns `result`. */
export async function pyodideRun(code: string): Promise<unknown> {
  const py = await loadPyodideFromSnapshot();
  py.runPython(code);
  const r = py.globals.get('result') as unknown;
  return typeof r === 'object' && r !== null && 'toJs' in r ? (r as { toJs(): unknown }).toJs() : r;
}

/** A child that answers JSON-RPC requests on stdin, one per line, like a stdio MCP server. */
export class JsonRpcChild {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private next = 1;

  constructor() {
    const server = `const rl = require('node:readline').createInterface({ input: process.stdin });
      rl.on('line', (line) => { const m = JSON.parse(line); process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: String(m.params.arguments.n) }] } }) + '\\n'); });`;
    this.child = spawn(process.execPath, ['-e', server]);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { id: number; result: unknown };
      this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id);
    });
  }

  call(n: number): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'ping', arguments: { n } } })}\n`);
    });
  }

  close(): void {
    this.child.kill();
  }
}

/** Microseconds per sequential JSON-RPC round trip to a stdio child. */
export async function jsonRpcRoundTrip(calls = 2000): Promise<Stats> {
  const child = new JsonRpcChild();
  const samples: number[] = [];
  for (let i = 0; i < calls + 200; i++) {
    const t = performance.now();
    await child.call(i);
    if (i >= 200) samples.push((performance.now() - t) * 1000);
  }
  child.close();
  return stats(samples);
}

/** Milliseconds from spawning `args` to the first byte on its stdout. */
export function timeToFirstOutput(args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(args[0]!, args.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'], ...(cwd ? { cwd } : {}) });
    let done = false;
    child.stdout.once('data', () => {
      done = true;
      resolve(performance.now() - t);
    });
    child.on('exit', (code) => {
      if (!done) reject(new Error(`${args.join(' ')} exited with ${code} before printing`));
    });
    child.stdout.resume();
  });
}
