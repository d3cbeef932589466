// The tooliscode library: everything the `tic` command does, as functions.
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
export { type OutputSchemaMode } from './runtime/tools.js';
export { build, type BuildOptions, type BuildResult, type Manifest } from './compiler/build.js';
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
export { serve, type ServeOptions, type RunningServe } from './serve/serve.js';
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
export {
  codeMode,
  CodeMode,
  Conversation,
  ConversationClosedError,
  type CodeModeOptions,
  type ConversationOptions,
  type RunPythonToolDefinition,
  type RunPythonResult,
} from './adapters/code-mode.js';
export { openaiChatTool, openaiResponsesTool, type OpenAIChatTool, type OpenAIChatToolCall, type OpenAIChatToolMessage, type OpenAIResponsesTool, type OpenAIResponsesFunctionCall, type OpenAIResponsesFunctionCallOutput } from './adapters/openai.js';
export { anthropicTool, type AnthropicTool, type AnthropicToolUse, type AnthropicToolResult } from './adapters/anthropic.js';
export { aiSdkTool } from './adapters/ai-sdk.js';
export { openaiAgentsTool } from './adapters/openai-agents.js';
export { MissingPeerError } from './adapters/peer.js';
