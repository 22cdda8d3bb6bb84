import type { PartsHead, StoredParts } from './parts.ts';

/**
 * Where a node keeps results: one store per node, every key `[dagId, dataId]`.
 * Implementations: {@link createMemoryStore} and {@link createIndexedDbStore}.
 */
export interface ResultStore {
  /** A short label for logs and errors, e.g. `indexeddb:handout-<nodeId>`. */
  readonly name: string;
  /** The value under `[dagId, dataId]`; rejects with `DataNotFoundError` when there is none. */
  get(dagId: string, dataId: string): Promise<unknown>;
  /** Stores a value; resolves once it is durable. Rejects with `StorageError`. */
  put(dagId: string, dataId: string, value: unknown): Promise<void>;
  has(dagId: string, dataId: string): Promise<boolean>;
  /**
   * The value under `[dagId, dataId]` as `{ value }`, or undefined when there is none: one read
   * that tells a missing item from a stored `undefined`. Optional: without it, `findValue` asks
   * `has`, then `get`.
   */
  find?(dagId: string, dataId: string): Promise<{ value: unknown } | undefined>;
  delete(dagId: string, dataId: string): Promise<void>;
  /** Removes every item of one DAG; others are untouched. */
  clearDag(dagId: string): Promise<void>;
  /** The data ids stored for one DAG (empty for an unknown DAG). */
  keys(dagId: string): Promise<string[]>;
  /** The ids of every DAG with at least one stored item. */
  dags(): Promise<string[]>;
  /**
   * A value kept in parts, opened to be read one part at a time: undefined when the item is not
   * here or not in parts. Optional: a store without it serves every value whole.
   */
  openParts?(dagId: string, dataId: string): Promise<StoredParts | undefined>;
  /**
   * Starts writing a value in parts as its bytes arrive (a big value fetched from a peer): each
   * part goes in when it comes, and nothing is visible until `commit`, which puts `head`. A
   * value whose staging never ends (the page closed) is swept when the store opens next.
   * Optional: a store without it is given the whole value with `put`.
   */
  stageParts?(dagId: string, dataId: string, head: PartsHead): StagedParts;
  /**
   * Starts committing what is queued now, rather than when the store's commit window closes:
   * for when nothing more is coming to commit with it. Optional: a store that writes at once
   * has nothing to hurry.
   */
  flush?(): void;
  /** Waits for pending writes, then releases the store. */
  close(): Promise<void>;
}

/** A value being written part by part (see `ResultStore.stageParts`). */
export interface StagedParts {
  /**
   * Writes part `i`, in order; resolves once it is written. Never rejects: a failed write is
   * kept for `commit` to report, and later parts are not written.
   */
  part(i: number, bytes: ArrayBuffer | ArrayBufferView): Promise<void>;
  /**
   * Makes the value visible, replacing what was under its key, once every part is written.
   * Rejects with `StorageError` (and removes the parts) when one was not.
   */
  commit(): Promise<void>;
  /** Removes what was written; the value never becomes visible. */
  abort(): Promise<void>;
}

/** A value in the store, or undefined when there is none: one read where the store has `find`. */
export async function findValue(
  store: ResultStore,
  dagId: string,
  dataId: string,
): Promise<{ value: unknown } | undefined> {
  if (store.find !== undefined) return store.find(dagId, dataId);
  if (!(await store.has(dagId, dataId))) return undefined;
  return { value: await store.get(dagId, dataId) };
}
