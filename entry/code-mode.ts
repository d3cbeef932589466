// `tooliscode/code-mode`: codeMode() and its classes, loaded without waiting for a first
// call (the main entry's `codeMode` loads this module on first call).
export {
  codeMode,
  CodeMode,
  Conversation,
  ConversationClosedError,
  type CodeModeOptions,
  type ConversationOptions,
  type RunPythonToolDefinition,
  type RunPythonResult,
} from '../adapters/code-mode.js';
