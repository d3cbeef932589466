// The MCP server side of `tic serve`: one `run_python` tool whose description is the
// build's prompt.md, answering with the text the model reads and the same result as
// structured content. One server object per MCP connection, bound to its code session.

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, type CallToolResult, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
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
    if (request.params.name !== RUN_PYTHON_TOOL) throw new McpError(ErrorCode.InvalidParams, `no tool named ${JSON.stringify(request.params.name)}; the one tool is ${RUN_PYTHON_TOOL}`);
    const code = request.params.arguments?.code;
    if (typeof code !== 'string') {
      return { content: [{ type: 'text', text: `${RUN_PYTHON_TOOL} takes {"code": "<Python source>"}; "code" ${code === undefined ? 'is missing' : 'must be a string'}` }], isError: true };
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
