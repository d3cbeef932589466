// A new process's path to a cell's first output through the library's main entry, as a
// host would write it: `node build/benchmarks/first-output.js DIR` prints `1` from the cell.
// With `call` after DIR, the cell prints the result of a tool call (`tools.ping`, as the
// bench's guest has it): what a code-mode agent's first cell does.
// (A file, not `node --input-type=module -e`: worker threads inherit that flag and refuse it.)
// startup.ts times it against a bare `node -e`.

// `tooliscode` is the package itself (a self-reference), so the main entry is what loads.
const specifier = 'tooliscode';
const { loadGuest } = (await import(specifier)) as typeof import('../index.js');
const guest = await loadGuest(process.argv[2]!);
const call = process.argv[3] === 'call';
const session = await guest.createSession(call ? { handlers: { ping: (args: { n?: number }) => args } } : {});
await session.run(call ? 'print(tools.ping(n=1)["n"])' : 'print(1)', { onStdout: (text) => process.stdout.write(text) });
process.exit(0);
