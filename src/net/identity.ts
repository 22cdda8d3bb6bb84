/**
 * A node's id in a browser: kept per tab in sessionStorage, guarded by a Web Lock while the node
 * lives.
 */
import { holdLock, webLocks } from './locks.ts';

export interface Identity {
  readonly id: string;
  readonly token: string;
}

export interface ClaimedIdentity extends Identity {
  /** Stops answering other tabs' questions about this id. */
  release(): void;
}

/**
 * The node id (and PeerJS token) kept per tab in sessionStorage, so a reload comes back as the
 * same peer and takes over its own signalling seat. A node holds a Web Lock named after its id
 * while it lives: a duplicated tab (which copies sessionStorage) finds the saved id locked and
 * takes a fresh one, and a second node given an id already in use here does not reuse the saved
 * token, so it cannot silently steal the first one's seat (the coordinator refuses it instead).
 */
export async function claimIdentity(
  explicit: string | undefined,
  scope: string,
): Promise<ClaimedIdentity> {
  const key = `handout:identity:${scope}`;
  const storage = typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  let saved: Partial<Identity> | undefined;
  try {
    saved = JSON.parse(storage?.getItem(key) ?? 'null') ?? undefined;
  } catch {
    saved = undefined;
  }
  const token = () => crypto.randomUUID().replaceAll('-', '');
  const id = explicit ?? saved?.id ?? crypto.randomUUID();
  let release = await lock(id);
  let identity: Identity;
  if (release !== undefined && saved?.id === id && saved.token) {
    identity = { id, token: saved.token };
  } else if (release === undefined && explicit === undefined) {
    identity = { id: crypto.randomUUID(), token: token() }; // a duplicated tab
    release = await lock(identity.id);
  } else {
    identity = { id, token: token() };
  }
  if (release !== undefined) storage?.setItem(key, JSON.stringify(identity));
  return { ...identity, release: release ?? (() => undefined) };
}

/** Holds the Web Lock for an id; undefined when another node of this origin holds it. */
async function lock(id: string): Promise<(() => void) | undefined> {
  const locks = webLocks();
  if (locks === undefined) return () => undefined;
  return holdLock(locks, `handout:node:${id}`, true);
}
