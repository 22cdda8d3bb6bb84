/** Runs `body` in a transaction on the object store; resolves with what `body` resolves to. */
export type UseObjectStore = <T>(
  mode: IDBTransactionMode,
  body: (store: IDBObjectStore) => T | PromiseLike<T>,
) => Promise<T>;

export interface Connection {
  readonly use: UseObjectStore;
  /** Closes the connection if one is open; a later `use` opens a new one. */
  close(): Promise<void>;
}

/**
 * A lazily opened, self-healing connection to one object store (idb-keyval's `createStore`,
 * made sturdier):
 * - a database that exists without the object store (made by other code) is upgraded to have it;
 * - another connection's upgrade or `deleteDatabase` is never blocked by this one: on
 *   `versionchange` it closes, and the next use reopens (recreating a deleted database);
 * - an open that is blocked by another connection fails instead of hanging.
 */
export function connect(dbName: string, storeName: string): Connection {
  let pending: Promise<IDBDatabase> | undefined;

  const open = (version?: number): Promise<IDBDatabase> =>
    new Promise((resolve, reject) => {
      const request =
        version === undefined ? indexedDB.open(dbName) : indexedDB.open(dbName, version);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(storeName)) {
          request.result.createObjectStore(storeName);
        }
      };
      let blocked = false;
      request.onblocked = () => {
        blocked = true;
        reject(new Error(`opening ${dbName} is blocked by another connection that does not close`));
      };
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        const db = request.result;
        if (blocked) {
          db.close(); // the caller has been told it failed; do not leak the late connection
          return;
        }
        if (!db.objectStoreNames.contains(storeName)) {
          const next = db.version + 1;
          db.close();
          open(next).then(resolve, reject);
          return;
        }
        db.onversionchange = () => {
          db.close();
          pending = undefined;
        };
        db.onclose = () => {
          pending = undefined;
        };
        resolve(db);
      };
    });

  const database = (): Promise<IDBDatabase> => {
    if (pending === undefined) {
      const opening = open();
      pending = opening;
      opening.catch(() => {
        if (pending === opening) pending = undefined;
      });
    }
    return pending;
  };

  return {
    use: (mode, body) =>
      database().then((db) => body(db.transaction(storeName, mode).objectStore(storeName))),
    async close() {
      const current = pending;
      pending = undefined;
      if (current !== undefined) (await current.catch(() => undefined))?.close();
    },
  };
}

/** Resolves when the transaction commits; rejects when it aborts. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}
