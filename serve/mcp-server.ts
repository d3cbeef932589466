// The MCP server side of `tic serve`: one `run_python` tool whose description is the
// build's prompt.md, answering with the text the model reads and the same result as
// structured content. One server object per MCP connection, bound to its code session.

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, type CallToolResult, ErrorCode, type JSONRPCMessage, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { packageVersion } from '../runtime/package-root.js';
import { RUN_PYTHON_INPUT_SCHEMA, RUN_PYTHON_OUTPUT_SCHEMA, RUN_PYTHON_TOOL } from '../runtime/result-text.js';
import type { CodeSession } from './sessions.js';

/**
 * The MCP server of one connection. `description` is the build's prompt.md. Both may be
 * promised: over stdio the server answers `initialize` while the SDK is still being built.
 */
export function createRunPythonServer(session: () => CodeSession | Promise<CodeSession>, description: () => string | Promise<string>): Server {
  const server = new Server({ name: 'tooliscode', title: 'tooliscode: tools as Python', version: packageVersion() }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [
      {
        name: RUN_PYTHON_TOOL,
        title: 'Run Python',
        description: await description(),
        inputSchema: RUN_PYTHON_INPUT_SCHEMA as unknown as { type: 'object' },
        outputSchema: RUN_PYTHON_OUTPUT_SCHEMA as unknown as { type: 'object' },
      },
    ],
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    // A plain error with a code: McpError would prefix "MCP error -32602:" and the client adds it again.
    if (request.params.name !== RUN_PYTHON_TOOL) throw Object.assign(new Error(`no tool named ${JSON.stringify(request.params.name)}; the one tool is ${RUN_PYTHON_TOOL}`), { code: ErrorCode.InvalidParams });
    const args = request.params.arguments ?? {};
    const code = args.code;
    const extraArgs = Object.keys(args).filter((k) => k !== 'code');
    if (typeof code !== 'string' || extraArgs.length) {
      const why = extraArgs.length ? `unexpected argument ${JSON.stringify(extraArgs[0])}` : `"code" ${code === undefined ? 'is missing' : 'must be a string'}`;
      return { content: [{ type: 'text', text: `${RUN_PYTHON_TOOL} takes {"code": "<Python source>"}; ${why}` }], isError: true };
    }
    // The client's notifications/cancelled aborts extra.signal: the cell gets KeyboardInterrupt.
    // With a progress token, stdout and stderr stream as progress notifications.
    const token = request.params._meta?.progressToken;
    let progress = 0;
    const stream = (text: string) => {
      if (token === undefined || extra.signal.aborted) return;
      void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++progress, message: text } }).catch(() => {});
    };
    const { text, structured } = await (await session()).run(code, { signal: extra.signal, onStdout: stream, onStderr: stream });
    return { content: [{ type: 'text', text }], structuredContent: structured as unknown as Record<string, unknown>, ...(structured.ok ? {} : { isError: true }) };
  });
  return server;
}

/**
 * Answers a `tools/call` whose params are not an object with a name the way JSON-RPC
 * expects (-32602 and one readable line) before the SDK's schema check, which would answer
 * -32603 with a raw schema dump. Call after `server.connect(transport)`.
 */
export function guardToolCalls(transport: Transport): void {
  const inner = transport.onmessage;
  if (!inner) return;
  transport.onmessage = (message: JSONRPCMessage, extra?: unknown) => {
    const m = message as { method?: unknown; id?: unknown; params?: unknown };
    if (m.method === 'tools/call' && m.id !== undefined) {
      const p = m.params as { name?: unknown; arguments?: unknown } | undefined;
      const why =
        typeof p !== 'object' || p === null || Array.isArray(p)
          ? 'tools/call needs params {"name", "arguments"}'
          : typeof p.name !== 'string'
            ? 'tools/call needs params.name, the tool\'s name (a string)'
            : p.arguments !== undefined && (typeof p.arguments !== 'object' || p.arguments === null || Array.isArray(p.arguments))
              ? 'tools/call params.arguments must be an object'
              : undefined;
      if (why) {
        void transport.send({ jsonrpc: '2.0', id: m.id as string | number, error: { code: ErrorCode.InvalidParams, message: why } }, { relatedRequestId: m.id as string | number }).catch(() => {});
        return;
      }
    }
    (inner as (m: JSONRPCMessage, e?: unknown) => void)(message, extra);
  };
}
