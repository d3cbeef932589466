// Where hibernated sessions wait: a store of checkpoints by session id, with a lease per
// session so that two processes never run one session at once. Two implementations: a
// folder (one machine) and Redis (several `tic serve` processes on several machines).

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkWorkspaceId } from './workspace.js';

export interface SessionStore {
  /** Where it is, for logs: a folder or a redis:// URL without its password. */
  readonly where: string;
  get(id: string): Promise<Uint8Array | undefined>;
  /** Stores a session's checkpoint under a new tag, which it returns. */
  set(id: string, checkpoint: Uint8Array): Promise<string>;
  /** The tag of the stored checkpoint: a process whose copy has another tag has a stale one. */
  tag(id: string): Promise<string | undefined>;
  delete(id: string): Promise<void>;
  /**
   * Takes or renews the lease on session `id` for `owner`, for `ttlMs`: false when another
   * owner holds it (the session runs elsewhere). A lease not renewed lapses: a process
   * that died gives its sessions up after `ttlMs`.
   */
  lease(id: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  release(id: string, owner: string): Promise<void>;
  close(): Promise<void>;
}

export class StoreError extends Error {
  override name = 'StoreError';
}

/** `redis://host:port` (or `rediss://`) opens Redis; anything else is a folder, created if missing. */
export async function openStore(spec: string): Promise<SessionStore> {
  if (/^rediss?:\/\//.test(spec)) return RedisStore.connect(spec);
  return new FolderStore(spec);
}

/** One file per checkpoint (written whole, then renamed into place) and one per lease. */
export class FolderStore implements SessionStore {
  readonly where: string;

  constructor(dir: string) {
    this.where = resolve(dir);
    mkdirSync(this.where, { recursive: true });
  }

  private file(id: string, ext: string): string {
    return join(this.where, `${checkWorkspaceId(id, 'session id')}.${ext}`);
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(readFileSync(this.file(id, 'tic')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async set(id: string, checkpoint: Uint8Array): Promise<string> {
    const file = this.file(id, 'tic');
    const tmp = `${file}.${randomUUID()}.partial`;
    writeFileSync(tmp, checkpoint);
    renameSync(tmp, file); // readers see the old checkpoint or the new, never half of one
    const tag = randomUUID();
    const tagTmp = `${this.file(id, 'tag')}.${randomUUID()}.partial`;
    writeFileSync(tagTmp, tag);
    renameSync(tagTmp, this.file(id, 'tag'));
    return tag;
  }

  async tag(id: string): Promise<string | undefined> {
    try {
      return readFileSync(this.file(id, 'tag'), 'utf8');
    } catch {
      return undefined;
    }
  }

  async delete(id: string): Promise<void> {
    for (const ext of ['tic', 'tag', 'lease']) rmSync(this.file(id, ext), { force: true });
  }

  async lease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const file = this.file(id, 'lease');
    try {
      const held = JSON.parse(readFileSync(file, 'utf8')) as { owner: string; until: number };
      if (held.owner !== owner && held.until > Date.now()) return false;
    } catch {
      /* none, or unreadable: free */
    }
    const tmp = `${file}.${randomUUID()}.partial`;
    writeFileSync(tmp, JSON.stringify({ owner, until: Date.now() + ttlMs }));
    renameSync(tmp, file);
    return true;
  }

  async release(id: string, owner: string): Promise<void> {
    const file = this.file(id, 'lease');
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { owner: string }).owner === owner) rmSync(file, { force: true });
    } catch {
      /* already gone */
    }
  }

  async close(): Promise<void> {}
}

// Take the lease if it is free or ours (then renew it); atomic in Redis.
const LEASE_SCRIPT = `local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type RedisClient = {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  get(key: unknown): Promise<unknown>;
  set(key: string, value: Buffer): Promise<unknown>;
  del(keys: string[]): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  on(event: 'error', listener: (err: Error) => void): unknown;
};

/** Checkpoints under `tic:ckpt:<id>`, leases under `tic:lease:<id>` (with an expiry). */
export class RedisStore implements SessionStore {
  private constructor(
    readonly where: string,
    private readonly client: RedisClient,
    private readonly commandOptions: (o: { returnBuffers: true }) => unknown,
  ) {}

  static async connect(url: string): Promise<RedisStore> {
    let redis: typeof import('redis');
    try {
      redis = await import('redis');
    } catch {
      throw new StoreError('a redis:// store needs the npm package "redis": npm install redis');
    }
    const client = redis.createClient({ url, socket: { reconnectStrategy: (retries: number) => (retries > 20 ? new Error('Redis is unreachable') : Math.min(50 * 2 ** retries, 2000)) } }) as unknown as RedisClient;
    const where = url.replace(/\/\/[^@/]*@/, '//***@');
    client.on('error', () => {}); // reported by the command that fails
    try {
      await client.connect();
    } catch (err) {
      throw new StoreError(`cannot reach the store at ${where}: ${(err as Error).message}`);
    }
    const withBuffers = (redis as unknown as { commandOptions?: (o: { returnBuffers: true }) => unknown }).commandOptions;
    return new RedisStore(where, client, withBuffers ?? ((o) => o));
  }

  private key(kind: 'ckpt' | 'lease' | 'tag', id: string): string {
    return `tic:${kind}:${checkWorkspaceId(id, 'session id')}`;
  }

  async get(id: string): Promise<Uint8Array | undefined> {
    const client = this.client as unknown as { withTypeMapping?: (m: Record<number, unknown>) => RedisClient };
    // Bytes back, not a string: RESP3 type mapping where the client has it.
    const reader = client.withTypeMapping ? client.withTypeMapping({ 36: Buffer }) : this.client;
    const v = (await reader.get(this.key('ckpt', id))) as Buffer | string | null;
    if (v === null || v === undefined) return undefined;
    return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'latin1')) : new Uint8Array(v);
  }

  async set(id: string, checkpoint: Uint8Array): Promise<string> {
    await this.client.set(this.key('ckpt', id), Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength));
    const tag = randomUUID();
    await this.client.set(this.key('tag', id), Buffer.from(tag));
    return tag;
  }

  async tag(id: string): Promise<string | undefined> {
    const v = (await this.client.get(this.key('tag', id))) as string | Buffer | null;
    return v === null || v === undefined ? undefined : String(v);
  }

  async delete(id: string): Promise<void> {
    await this.client.del([this.key('ckpt', id), this.key('tag', id), this.key('lease', id)]);
  }

  async lease(id: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.client.eval(LEASE_SCRIPT, { keys: [this.key('lease', id)], arguments: [owner, String(Math.max(1, Math.round(ttlMs)))] })) === 1;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.client.eval(RELEASE_SCRIPT, { keys: [this.key('lease', id)], arguments: [owner] });
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => {});
  }
}
