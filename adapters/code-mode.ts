// Code mode for agent frameworks: one `run_python` tool whose description is the build's
// prompt.md, run in one session per conversation. The framework shapes (adapters/*.ts)
// only reshape the tool definition and the result; everything else lives here.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Guest, type LoadOptions, loadGuest } from '../runtime/guest.js';
import type { Handlers, Limits, Session } from '../runtime/session.js';
import { formatRunResult, RUN_PYTHON_INPUT_SCHEMA, RUN_PYTHON_TOOL, type RunPythonOutput } from '../runtime/result-text.js';

export interface CodeModeOptions {
  /** The output folder of `tic build`. */
  dir: string;
  /** Host handlers of the build's tools (e.g. `connectMcpServer(...).handlers`). */
  handlers?: Handlers;
  /** Limits of every conversation's session (timeout, memory, output, workspace size). */
  limits?: Limits;
  /** A folder under which each conversation gets its own workspace, `<workspace>/<conversation id>`. */
  workspace?: string;
  /** The tool's name (default `run_python`). */
  toolName?: string;
  /** Workers kept ready for new conversations (default 1). */
  warm?: LoadOptions['warm'];
}

export interface ConversationOptions {
  /** Names the conversation (and its workspace folder); a random UUID by default. */
  id?: string;
  /** This conversation's workspace folder, instead of `<workspace>/<id>`. */
  workspace?: string;
  /** Handlers for this conversation only (e.g. with a user's credentials), instead of the shared ones. */
  handlers?: Handlers;
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

export class ConversationClosedError extends Error {
  override name = 'ConversationClosedError';
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Loads the build once; hands out conversations, each with its own session. */
export async function codeMode(options: CodeModeOptions): Promise<CodeMode> {
  const guest = await loadGuest(options.dir, options.warm !== undefined ? { warm: options.warm } : {});
  const prompt = readFileSync(join(options.dir, 'prompt.md'), 'utf8');
  return new CodeMode(guest, prompt, options);
}

export class CodeMode {
  readonly tool: RunPythonToolDefinition;
  private readonly open = new Set<Conversation>();

  /** @internal use codeMode() */
  constructor(
    readonly guest: Guest,
    /** The build's prompt.md: the tool's description. */
    readonly prompt: string,
    private readonly options: CodeModeOptions,
  ) {
    this.tool = {
      name: options.toolName ?? RUN_PYTHON_TOOL,
      description: prompt,
      // A mutable copy: the frameworks' schema types take plain arrays.
      inputSchema: { ...RUN_PYTHON_INPUT_SCHEMA, properties: { code: { ...RUN_PYTHON_INPUT_SCHEMA.properties.code } }, required: ['code'] },
    };
  }

  /** A new conversation. Its session starts with its first cell and ends with close(). */
  conversation(options: ConversationOptions = {}): Conversation {
    const id = options.id ?? randomUUID();
    if (options.workspace === undefined && this.options.workspace !== undefined && !SAFE_ID.test(id)) {
      throw new Error(`conversation id ${JSON.stringify(id)}: names its workspace folder, so use letters, digits, ".", "_" or "-" (up to 128)`);
    }
    const workspace = options.workspace ?? (this.options.workspace !== undefined ? join(this.options.workspace, id) : undefined);
    const conversation = new Conversation(id, this, () =>
      this.guest.createSession({
        handlers: options.handlers ?? this.options.handlers ?? {},
        ...(workspace !== undefined ? { workspace } : {}),
        ...(this.options.limits ? { limits: this.options.limits } : {}),
      }),
      () => this.open.delete(conversation),
    );
    this.open.add(conversation);
    return conversation;
  }

  /** Closes every open conversation and the guest's idle workers. */
  async close(): Promise<void> {
    await Promise.all([...this.open].map((c) => c.close()));
    await this.guest.close();
  }
}

export class Conversation {
  private session: Promise<Session> | undefined;
  private closed = false;

  /** @internal use CodeMode.conversation() */
  constructor(
    readonly id: string,
    readonly codeMode: CodeMode,
    private readonly start: () => Promise<Session>,
    private readonly onClose: () => void,
  ) {}

  get tool(): RunPythonToolDefinition {
    return this.codeMode.tool;
  }

  /** Runs one cell in this conversation's session (started on first use). */
  async run(code: string): Promise<RunPythonResult> {
    if (this.closed) throw new ConversationClosedError(`conversation ${this.id} is closed`);
    let note: string | undefined;
    const current = (this.session ??= this.startSession());
    let session = await current;
    if (session.isClosed) {
      // The last cell ended its session (stuck past its time limit, or the guest died):
      // go on in a fresh one (one for calls that arrive together), and say so, since the
      // model's globals are gone.
      note = 'tooliscode: the previous session ended; this cell runs in a new one, earlier globals and in-memory files are gone';
      if (this.session === current || this.session === undefined) this.session = this.startSession();
      session = await this.session;
    }
    const { text, structured } = formatRunResult(await session.run(code), note);
    return { ...structured, text };
  }

  /**
   * Runs a tool call's input: a JSON string (OpenAI) or an object (Anthropic, AI SDK).
   * Input that is not `{code: string}` becomes a failed result the model can read.
   */
  async call(input: unknown): Promise<RunPythonResult> {
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
    return this.run(code);
  }

  /** A session that failed to start is not kept: the next cell tries again. */
  private startSession(): Promise<Session> {
    const started = this.start();
    started.catch(() => {
      if (this.session === started) this.session = undefined;
    });
    return started;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the session (its workspace folder stays). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    const session = this.session;
    this.session = undefined;
    // A session still starting is closed once it has started; one that failed has nothing to close.
    if (session) await session.then((s) => s.close(), () => {});
  }
}

function invalid(tool: string, message: string): RunPythonResult {
  const { text, structured } = formatRunResult({ ok: false, stdout: '', stderr: '', error: { type: 'ToolArgumentError', message: `${tool}: ${message}`, traceback: '' } });
  return { ...structured, text };
}
