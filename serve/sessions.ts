// Session bookkeeping of `tic serve`: one code session per MCP connection (the process
// over stdio, one per Mcp-Session-Id over HTTP), each with its own globals and, with a
// workspace root, its own folder under it. A session idle for `idleTimeoutMs` is ended;
// a session that ended under a call (a cell that would not stop) is replaced by the next
// call, which says so.

import { join } from 'node:path';
import { builtin } from '../runtime/builtins.js';
import type { Guest } from '../runtime/guest.js';
import { type RunPythonOutput, formatRunResult } from '../runtime/result-text.js';
import { DEFAULT_LIMITS, type Handlers, type Limits, type RunOptions, type Session } from '../runtime/session.js';
import type { SessionStore } from '../runtime/store.js';
import { checkWorkspaceId } from '../runtime/workspace.js';
import type { CheckMode } from '../runtime/check.js';

export interface SessionsOptions {
  guest: Guest;
  handlers: Handlers;
  limits?: Limits;
  /** The pre-flight check of cells (runtime/check.ts; default block). */
  check?: CheckMode;
  /** Each session gets the folder `<workspaceRoot>/<session id>` at /workspace; in memory without. */
  workspaceRoot?: string;
  /** A session with no call for this long is ended (default 15 min). */
  idleTimeoutMs?: number;
  /**
   * Called when a session was idle for `idleTimeoutMs`; it should close the connection and
   * the session (Sessions.close). Without it the session's guest is ended and the next
   * call starts a new one, saying so.
   */
  onExpired?: (id: string) => void;
  log?: (line: string) => void;
  /**
   * Sessions as data: after every cell the session is checkpointed into the store, so it
   * survives this process and any process on the same store can continue it (the store's
   * lease keeps two from running it at once; a copy older than the store's is dropped).
   */
  store?: SessionStore;
  /** With a store: a session idle this long releases its worker (default 30 s); its next cell restores it. */
  hibernateAfterMs?: number;
  /** This process, as a lease owner (default: a random id). */
  owner?: string;
}

export const DEFAULT_HIBERNATE_AFTER_MS = 30_000;

export const DEFAULT_IDLE_TIMEOUT_MS = 15 * 60_000;

/** This process as a lease owner in a store. */
let processOwner: string | undefined;



/** One conversation: a session of the guest, made on first use and again after it ended. */
export class CodeSession {
  private session: Session | undefined;
  private starting: Promise<Session> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private busy = 0;
  /** Why the previous session ended, told with the next result. */
  private endedBecause: string | undefined;
  private closed = false;
  /** With a store: the tag of the checkpoint this process's copy continues from. */
  private tag: string | undefined;
  private hibernateTimer: NodeJS.Timeout | undefined;
  readonly workspace: string | undefined;

  /** @internal use Sessions.open */
  constructor(
    readonly id: string,
    private readonly owner: Sessions,
    private readonly o: SessionsOptions,
  ) {
    this.workspace = o.workspaceRoot !== undefined ? join(o.workspaceRoot, id) : undefined;
  }

  /** Starts the guest session now rather than on the first call (from the store's checkpoint, if it has one). */
  warm(): Promise<Session> {
    if (this.session && !this.session.isClosed) return Promise.resolve(this.session);
    const options = { handlers: this.o.handlers, ...(this.workspace !== undefined ? { workspace: this.workspace } : {}), ...(this.o.limits ? { limits: this.o.limits } : {}), ...(this.o.check ? { check: this.o.check } : {}) };
    this.starting ??= (async () => {
      const stored = this.o.store ? await this.o.store.get(this.id) : undefined;
      if (!stored) return this.o.guest.createSession(options);
      this.tag = await this.o.store!.tag(this.id);
      return this.o.guest.restore(stored, options);
    })()
      .then((s) => {
        this.session = s;
        return s;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  /**
   * Runs one cell: the text the model reads and the same as structured content. `signal`
   * cancels it (KeyboardInterrupt; the session stays); `onStdout`/`onStderr` stream its output.
   */
  async run(code: string, options: Pick<RunOptions, 'signal' | 'onStdout' | 'onStderr'> = {}): Promise<{ text: string; structured: RunPythonOutput }> {
    if (this.closed) throw new Error(`session ${this.id} is closed`);
    this.busy++;
    this.stopTimer();
    const store = this.o.store;
    let leased = false;
    try {
      if (store) {
        leased = await store.lease(this.id, this.leaseOwner, this.leaseMs());
        if (!leased) {
          const message = `session ${this.id} is running a cell in another process; try again when it has finished`;
          return formatRunResult({ ok: false, stdout: '', stderr: '', error: { type: 'SessionBusy', message, traceback: `SessionBusy: ${message}\n` } });
        }
        // Another process ran a cell of this session since: this copy is stale.
        if (this.session && (await store.tag(this.id)) !== this.tag) {
          const stale = this.session;
          this.session = undefined;
          await stale.close();
        }
      }
      if (this.session?.isClosed && !this.endedBecause) this.endedBecause = 'the previous session ended';
      const session = await this.warm();
      const r = await session.run(code, options);
      if (store && !session.isClosed) {
        try {
          this.tag = await store.set(this.id, await session.checkpoint());
        } catch (err) {
          this.o.log?.(`session ${this.id}: cannot store its checkpoint: ${(err as Error).message}`);
        }
      }
      const note = this.endedBecause && `${this.endedBecause}; this is a new session: variables and imports were reset${this.workspace ? ', files in /workspace were kept' : ''}`;
      this.endedBecause = undefined;
      if (session.isClosed) this.endedBecause = `the previous session ended: ${r.error?.message ?? 'its guest stopped'}`;
      return formatRunResult(r, note);
    } finally {
      if (leased) await store!.release(this.id, this.leaseOwner).catch(() => {});
      this.busy--;
      this.startTimer();
    }
  }

  private get leaseOwner(): string {
    return this.o.owner ?? (processOwner ??= `${process.pid}-${builtin('node:crypto').randomUUID()}`);
  }

  /** A lease outlives the longest a cell may take, so it lapses only when its process is gone. */
  private leaseMs(): number {
    const l = { ...DEFAULT_LIMITS, ...this.o.limits };
    return l.timeoutMs + l.graceMs + 10_000;
  }

  /** With a store: the worker is released; the state is in the store since the last cell. */
  private async hibernate(): Promise<void> {
    const s = this.session;
    if (!s || this.busy > 0 || s.isClosed) return;
    this.session = undefined;
    await s.close();
    this.o.log?.(`session ${this.id} hibernated`);
  }

  /** (Re)starts the idle clock, unless a call is running. */
  startTimer(): void {
    const ms = this.o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (this.busy > 0 || this.closed) return;
    if (this.o.store) {
      const after = this.o.hibernateAfterMs ?? DEFAULT_HIBERNATE_AFTER_MS;
      this.hibernateTimer = setTimeout(() => void this.hibernate(), after);
      this.hibernateTimer.unref();
    }
    if (!Number.isFinite(ms)) return;
    this.timer = setTimeout(() => {
      this.o.log?.(`session ${this.id} was idle for ${Math.round(ms / 1000)} s and ended`);
      // Over HTTP the connection goes with it; over stdio the next call starts a new session.
      if (this.o.onExpired) this.o.onExpired(this.id);
      else void this.expire(`the previous session was idle for ${Math.round(ms / 1000)} s and ended`);
    }, ms);
    this.timer.unref();
  }

  private async expire(reason: string): Promise<void> {
    const s = this.session;
    if (!s || this.busy > 0) return;
    this.session = undefined;
    this.endedBecause = reason;
    await s.close();
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.hibernateTimer) clearTimeout(this.hibernateTimer);
    this.timer = undefined;
    this.hibernateTimer = undefined;
  }

  /** True while the session's guest is live in this process (false: not started, or hibernated). */
  get isLive(): boolean {
    return this.session !== undefined && !this.session.isClosed;
  }

  /** @internal use Sessions.close */
  async end(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    const s = this.session ?? (await this.starting?.catch(() => undefined));
    this.session = undefined;
    await s?.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** The sessions of one `tic serve` process, by id. */
export class Sessions {
  private readonly byId = new Map<string, CodeSession>();

  constructor(private readonly o: SessionsOptions) {}

  /** A new session; its idle clock starts now. Its id names its workspace folder: checked as one. */
  open(id: string = builtin('node:crypto').randomUUID()): CodeSession {
    checkWorkspaceId(id, 'session id');
    if (this.byId.has(id)) throw new Error(`session ${id} exists`);
    const s = new CodeSession(id, this, this.o);
    this.byId.set(id, s);
    s.startTimer();
    return s;
  }

  get(id: string): CodeSession | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Ends a session in this process; `forget` (the client ended it) also removes its checkpoint from the store. */
  async close(id: string, options: { forget?: boolean } = {}): Promise<void> {
    const s = this.byId.get(id);
    if (s) {
      this.byId.delete(id);
      await s.end();
    }
    if (options.forget) await this.o.store?.delete(id).catch((err: Error) => this.o.log?.(`session ${id}: cannot remove its checkpoint: ${err.message}`));
  }

  /** True when the store holds a checkpoint of session `id` (another process, or an earlier run of this one, made it). */
  async stored(id: string): Promise<boolean> {
    if (!this.o.store) return false;
    try {
      checkWorkspaceId(id, 'session id');
    } catch {
      return false;
    }
    return (await this.o.store.tag(id)) !== undefined;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byId.keys()].map((id) => this.close(id)));
  }
}
