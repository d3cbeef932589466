// The agent frameworks are optional peer dependencies: an adapter imports its framework
// only when called, so a user without `ai` can still use the OpenAI shapes.

export class MissingPeerError extends Error {
  override name = 'MissingPeerError';
}

/** `load` is `() => import(name)` (a literal import keeps its types); a missing package gets a one-line error naming it. */
export async function importPeer<T>(name: string, adapter: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(`'${name}'`)) {
      throw new MissingPeerError(`${adapter}() needs the package "${name}", which is not installed: npm install ${name}`);
    }
    throw err;
  }
}
