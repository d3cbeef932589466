// The tooliscode library: everything the `tic` command does, as functions.
//
// `import { loadGuest } from 'tooliscode'` loads only what sessions need. The compiler
// (ts-morph, json-schema-to-typescript, prettier), `serve` (the MCP server SDK, hono) and
// `codeMode` load when first called: the functions below have the same names and
// signatures and import their module on the first call. Their modules are also entry
// points of their own: `tooliscode/compiler`, `tooliscode/serve`, `tooliscode/code-mode`.
// The MCP client SDK is loaded by the first start of an MCP server (runtime/mcp/upstream.ts),
// ajv only by a check of a tool call that the build did not compile ahead (runtime/validators.ts).
// `index.test.ts` fails when this entry loads any of them eagerly.

import type * as CodeModeModule from './adapters/code-mode.js';
import type { BuildOptions, BuildResult } from './compiler/build.js';
import type { RunningServe, ServeOptions } from './serve/serve.js';

export { buildGuest, findBaseGuest, cacheRoot, GuestBuildError, type BaseGuest, type GuestBuildInfo } from './guest/build/index.js';
export {
  GuestInstance,
  GuestCrash,
  compileGuest,
  type CellResult,
  type CellError,
  type GuestImage,
  type HostCallHandler,
  type RunHooks,
} from './runtime/instance.js';
export { loadGuest, Guest, type LoadOptions } from './runtime/guest.js';
export {
  Session,
  SessionClosedError,
  SessionBusyError,
  DEFAULT_LIMITS,
  type Handler,
  type Handlers,
  type Limits,
  type RunOptions,
  type RunResult,
  type SessionOptions,
  type ToolCallEvent,
  type ToolCallRecord,
} from './runtime/session.js';
export { GuestLoadError } from './runtime/load.js';
export { CheckpointError } from './runtime/checkpoint.js';
export { type OutputSchemaMode } from './runtime/tools.js';
export type { BuildOptions, BuildResult, Manifest } from './compiler/build.js';

/** `tic build` as a function (loads the compiler on first call; also `tooliscode/compiler`). */
export async function build(options: BuildOptions): Promise<BuildResult> {
  return (await import('./compiler/build.js')).build(options);
}

export {
  connectMcpServer,
  splitCommand,
  McpError,
  McpHub,
  Upstream,
  loadServersConfig,
  parseServersConfig,
  serverSpecsFromOptions,
  serverRecord,
  type McpServer,
  type ServerSpec,
  type ServerRecord,
  type UpstreamOptions,
} from './runtime/mcp.js';
export type { ServeOptions, RunningServe } from './serve/serve.js';

/** `tic serve` as a function (loads the MCP server side on first call; also `tooliscode/serve`). */
export async function serve(options: ServeOptions): Promise<RunningServe> {
  return (await import('./serve/serve.js')).serve(options);
}

export { Sessions, CodeSession } from './serve/sessions.js';
export {
  formatRunResult,
  RUN_PYTHON_TOOL,
  RUN_PYTHON_INPUT_SCHEMA,
  RUN_PYTHON_OUTPUT_SCHEMA,
  NO_OUTPUT,
  type RunPythonInput,
  type RunPythonOutput,
} from './runtime/result-text.js';
export { CellFailedError } from './adapters/cell-failed.js';
export type { CellOptions, CodeModeOptions, ConversationOptions, RunPythonToolDefinition, RunPythonResult } from './adapters/code-mode.js';

// codeMode's classes: only codeMode() makes their instances, so until its module is loaded
// there is nothing they could be the class of. These stand-ins match nothing and cannot be
// constructed; codeMode() replaces them (live bindings) with the real classes.
function notLoadedYet<T>(name: string): T {
  return class {
    constructor() {
      throw new Error(`${name} is made by codeMode(): call it first, or import ${name} from 'tooliscode/code-mode'`);
    }
    static [Symbol.hasInstance](): boolean {
      return false;
    }
  } as T;
}
export type CodeMode = CodeModeModule.CodeMode;
export type Conversation = CodeModeModule.Conversation;
export type ConversationClosedError = CodeModeModule.ConversationClosedError;
export let CodeMode: typeof CodeModeModule.CodeMode = notLoadedYet('CodeMode');
export let Conversation: typeof CodeModeModule.Conversation = notLoadedYet('Conversation');
export let ConversationClosedError: typeof CodeModeModule.ConversationClosedError = notLoadedYet('ConversationClosedError');

/** Code mode for agent frameworks (loads its module, and `serve`'s, on first call; also `tooliscode/code-mode`). */
export async function codeMode(options: CodeModeModule.CodeModeOptions): Promise<CodeModeModule.CodeMode> {
  const m = await import('./adapters/code-mode.js');
  ({ CodeMode, Conversation, ConversationClosedError } = m);
  return m.codeMode(options);
}

export { openaiChatTool, openaiResponsesTool, type OpenAIChatTool, type OpenAIChatToolCall, type OpenAIChatToolMessage, type OpenAIResponsesTool, type OpenAIResponsesFunctionCall, type OpenAIResponsesFunctionCallOutput } from './adapters/openai.js';
export { anthropicTool, type AnthropicTool, type AnthropicToolUse, type AnthropicToolResult } from './adapters/anthropic.js';
export { aiSdkTool } from './adapters/ai-sdk.js';
export { openaiAgentsTool, type OpenAIAgentsToolOptions } from './adapters/openai-agents.js';
export { langchainTool, RUN_PYTHON_OUTPUT_EVENT, type LangChainToolOptions, type RunPythonOutputChunk } from './adapters/langchain.js';
export { mastraTool, type MastraToolOptions } from './adapters/mastra.js';
export { ConversationIdMissingError, type ConversationSource } from './adapters/keyed.js';
export { MissingPeerError } from './adapters/peer.js';
