// Code mode for agent frameworks: one `run_python` tool whose description is the build's
// prompt.md, run in one session per conversation. Conversations are `tic serve`'s sessions
// (serve/sessions.ts) and results its text (runtime/result-text.ts); the framework shapes
// (adapters/*.ts) only reshape the tool definition and the result.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Guest, type LoadOptions, loadGuest } from '../runtime/guest.js';
import { formatRunResult, RUN_PYTHON_INPUT_SCHEMA, RUN_PYTHON_TOOL, type RunPythonOutput } from '../runtime/result-text.js';
import type { Handlers, Limits } from '../runtime/session.js';
import { checkWorkspaceId } from '../runtime/workspace.js';
import { type SessionStore, openStore } from '../runtime/store.js';
import type { CheckMode } from '../runtime/check.js';
import { cacheRoot } from '../guest/build/index.js';
import { McpHub } from '../runtime/mcp/hub.js';
import { loadServersConfig, type ServerSpec } from '../runtime/mcp/config.js';
import { buildForServers } from '../serve/serve.js';
import { type CodeSession, Sessions } from '../serve/sessions.js';

export interface CodeModeOptions {
  /** The output folder of `tic build`; with `config`, optional (built on first use, cached). */
  dir?: string;
  /**
   * MCP servers as the tools: an `mcpServers` file (as MCP clients write it) or its parsed
   * servers. They start once, serve every conversation, and stop with close(); their
   * tools are built into an SDK (cached) unless `dir` is given.
   */
  config?: string | ServerSpec[];
  /** Host handlers of the build's tools (e.g. `connectMcpServer(...).handlers`); with `config`, added to the servers'. */
  handlers?: Handlers;
  /** Limits of every conversation's session (timeout, memory, output, workspace size). */
  limits?: Limits;
  /** The pre-flight check of each cell's SDK calls: `block` (default), `warn` or `off` (runtime/check.ts). */
  check?: CheckMode;
  /** A folder under which each conversation gets its own workspace, `<workspace>/<conversation id>`. */
  workspace?: string;
  /** A conversation with no cell for this long has its session ended; its next cell starts a new one and says so (default 15 min, as `tic serve`). */
  idleTimeoutMs?: number;
  /**
   * Sessions as data: every conversation is checkpointed into this store after each cell;
   * an idle one hibernates (its worker released) and restores on its next cell, in this
   * process or another on the same store (a folder, `redis://host:port`, or a SessionStore).
   */
  store?: SessionStore | string;
  /** With a store: how long an idle conversation keeps its worker (default 30 s). */
  hibernateAfterMs?: number;
  /** Conversations open at once (default: no limit); `conversation()` past it throws SessionLimitError. */
  maxSessions?: number;
  /** The tool's name (default `run_python`). */
  toolName?: string;
  /** Workers kept ready for new conversations (default 1). */
  warm?: LoadOptions['warm'];
}

/** How one cell is run: its cancel signal and output streams. */
export interface CellOptions {
  signal?: AbortSignal;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
}

export interface ConversationOptions {
  /** Names the conversation (and its workspace folder); a random UUID by default. */
  id?: string;
}

/** The tool, independent of any framework: JSON Schema of its one argument. */
export interface RunPythonToolDefinition {
  name: string;
  description: string;
  inputSchema: {
    type: 'object';
    properties: { code: { type: 'string'; description: string } };
    required: ['code'];
    additionalProperties: false;
  };
}

/** A cell's result: the structured data (`structuredContent` in `tic serve`) plus the text the model reads. */
export interface RunPythonResult extends RunPythonOutput {
  text: string;
}

/** A new conversation or session past `maxSessions`. */
export class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

export class ConversationClosedError extends Error {
  override name = 'ConversationClosedError';
}

export { CellFailedError } from './cell-failed.js';
/** How many closed conversation ids are remembered, to tell the model when one is opened again. */
const CLOSED_IDS_KEPT = 10_000;

/** Loads the build once; hands out conversations, each with its own session. */
export async function codeMode(given: CodeModeOptions): Promise<CodeMode> {
  if (given.config === undefined && given.dir === undefined) throw new Error('codeMode() needs dir (the output folder of tic build) or config (MCP servers)');
  // A store named by a string is opened here, and closed with the CodeMode.
  const ownStore = typeof given.store === 'string' ? await openStore(given.store) : undefined;
  const options: CodeModeOptions = ownStore ? { ...given, store: ownStore } : given;
  const closeStore = async () => void (await ownStore?.close());
  if (options.config === undefined) {
    const guest = await loadGuest(options.dir!, options.warm !== undefined ? { warm: options.warm } : {});
    return new CodeMode(guest, readFileSync(join(options.dir!, 'prompt.md'), 'utf8'), options, closeStore);
  }
  // The same path as `tic serve`: start the servers, build their tools once (cached).
  const specs = typeof options.config === 'string' ? loadServersConfig(options.config) : options.config;
  const { hub, failures } = await McpHub.start(specs, { logDir: join(cacheRoot(), 'logs', 'mcp') });
  try {
    if (failures.length) throw failures[0];
    const dir = options.dir ?? (await buildForServers(hub, {}, () => {}));
    const guest = await loadGuest(dir, options.warm !== undefined ? { warm: options.warm } : {});
    const handlers = { ...hub.handlers(guest.tools.tools), ...options.handlers };
    return new CodeMode(guest, readFileSync(join(dir, 'prompt.md'), 'utf8'), { ...options, handlers }, async () => {
      await hub.close();
      await closeStore();
    });
  } catch (err) {
    await hub.close();
    await closeStore();
    throw err;
  }
}

export class CodeMode {
  readonly tool: RunPythonToolDefinition;
  /** The conversations' sessions: the same bookkeeping as `tic serve`'s connections. */
  private readonly sessions: Sessions;
  /** The open conversations by id (get-or-create). */
  private readonly open = new Map<string, Conversation>();
  /** Ids of closed conversations (insertion order: oldest first). */
  private readonly closedIds = new Map<string, true>();
  private readonly maxSessions: number | undefined;

  /** @internal use codeMode() */
  constructor(
    readonly guest: Guest,
    /** The build's prompt.md: the tool's description. */
    readonly prompt: string,
    options: CodeModeOptions,
    /** Stops what codeMode() started for this object (MCP servers). */
    private readonly stop: () => Promise<void> = async () => {},
  ) {
    this.maxSessions = options.maxSessions;
    this.tool = {
      name: options.toolName ?? RUN_PYTHON_TOOL,
      description: prompt,
      // A mutable copy: the frameworks' schema types take plain arrays.
      inputSchema: { ...RUN_PYTHON_INPUT_SCHEMA, properties: { code: { ...RUN_PYTHON_INPUT_SCHEMA.properties.code } }, required: ['code'] },
    };
    this.sessions = new Sessions({
      guest,
      handlers: options.handlers ?? {},
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.check ? { check: options.check } : {}),
      ...(options.workspace !== undefined ? { workspaceRoot: options.workspace } : {}),
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.store !== undefined ? { store: options.store as SessionStore } : {}),
      ...(options.hibernateAfterMs !== undefined ? { hibernateAfterMs: options.hibernateAfterMs } : {}),
    });
  }

  /**
   * The conversation with this id, opened now if it is not open (get-or-create: the same
   * object while it is open); a new one with a random id without. Its session starts with
   * its first cell and ends with close(). An id opened again after close() gets a new
   * session whose first result tells the model its variables are gone.
   */
  conversation(options: ConversationOptions = {}): Conversation {
    const id = options.id === undefined ? undefined : checkWorkspaceId(options.id, 'conversation id');
    const open = id !== undefined ? this.open.get(id) : undefined;
    if (open && !open.isClosed) return open;
    if (this.maxSessions !== undefined && this.open.size >= this.maxSessions) {
      throw new SessionLimitError(`codeMode has its maximum of ${this.maxSessions} conversations open (maxSessions): close one (conversation.close()) first`);
    }
    const session = this.sessions.open(id);
    const reopened = this.closedIds.delete(session.id);
    const note = reopened ? `conversation ${session.id} was closed before; this is a new session: variables and imports were reset${session.workspace ? ', files in /workspace were kept' : ''}` : undefined;
    const conversation = new Conversation(this, session, async () => {
      if (this.open.get(session.id) === conversation) this.open.delete(session.id);
      this.closedIds.set(session.id, true);
      // Remembered for the note above; the oldest are forgotten past the bound.
      if (this.closedIds.size > CLOSED_IDS_KEPT) this.closedIds.delete(this.closedIds.keys().next().value!);
      await this.sessions.close(session.id, { forget: true }); // closed for good: its checkpoint goes too
    }, note);
    this.open.set(session.id, conversation);
    return conversation;
  }

  /** Closes every open conversation and the guest's idle workers. */
  async close(): Promise<void> {
    await this.sessions.closeAll();
    await this.guest.close();
    await this.stop();
  }
}

export class Conversation {
  /** @internal use CodeMode.conversation() */
  constructor(
    readonly codeMode: CodeMode,
    private readonly session: CodeSession,
    private readonly end: () => Promise<void>,
    /** Told with the first result (in brackets, as the session's own notes). */
    private note?: string,
  ) {}

  get id(): string {
    return this.session.id;
  }

  get tool(): RunPythonToolDefinition {
    return this.codeMode.tool;
  }

  /**
   * Runs one cell in this conversation's session (started on first use, and again after it
   * ended, saying so). `signal` (a framework's abort signal) cancels the cell: it stops with
   * KeyboardInterrupt, the session keeps its globals, and the next cell starts at once.
   * `onStdout`/`onStderr` receive the output as it is printed.
   */
  async run(code: string, options: CellOptions = {}): Promise<RunPythonResult> {
    if (this.session.isClosed) throw new ConversationClosedError(`conversation ${this.id} is closed: its session and variables are gone (codeMode.conversation({ id }) opens a new one)`);
    const { text, structured } = await this.session.run(code, options);
    const note = this.note;
    this.note = undefined;
    return { ...structured, text: note ? `[${note}]\n${text}` : text };
  }

  /**
   * Runs a tool call's input: a JSON string (OpenAI) or an object (Anthropic, AI SDK).
   * Input that is not `{code: string}` becomes a failed result the model can read.
   */
  async call(input: unknown, options: CellOptions = {}): Promise<RunPythonResult> {
    let args = input;
    if (typeof input === 'string') {
      try {
        args = JSON.parse(input);
      } catch {
        return invalid(this.tool.name, `the arguments are not JSON: ${JSON.stringify(input.slice(0, 80))}`);
      }
    }
    const code = (args as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') return invalid(this.tool.name, `the arguments need "code", a string of Python (got ${JSON.stringify(args)?.slice(0, 80)})`);
    return this.run(code, options);
  }

  get isClosed(): boolean {
    return this.session.isClosed;
  }

  /** Ends the session (its workspace folder stays). */
  async close(): Promise<void> {
    await this.end();
  }
}

function invalid(tool: string, message: string): RunPythonResult {
  const { text, structured } = formatRunResult({ ok: false, stdout: '', stderr: '', error: { type: 'ToolArgumentError', message: `${tool}: ${message}`, traceback: '' } });
  return { ...structured, text };
}
