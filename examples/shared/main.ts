import { pathToFileURL } from 'node:url';

/** Runs `main` when the module is the process's entry point (`node build/examples/...`), and prints its lines. */
export function runMain(moduleUrl: string, main: () => Promise<{ lines: string[] }>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  main().then(
    ({ lines }) => console.log(lines.join('\n')),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}

/** An MCP CallToolResult as the text a directly calling model reads (its content blocks). */
export function mcpText(result: unknown): string {
  const r = result as { content?: { type: string; text?: string }[] };
  return (r.content ?? []).map((c) => c.text ?? JSON.stringify(c)).join('\n');
}
