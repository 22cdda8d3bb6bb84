import type { UseObjectStore } from './idb-connection.ts';
import { ownParts } from './idb-parts.ts';
import type { PartsHead } from './parts.ts';

/**
 * What the IndexedDB store does at open for values written as they arrive (`idb-staging.ts`):
 * where their markers are, and the sweep of those a closed page left.
 */

/** Where the markers of values being staged are: a DAG id no `Dag` can have. */
export const STAGING_DAG = '\u0000handout:staging';

/**
 * The store's transactions, the first of which (made readwrite) first sweeps the parts of every
 * staging that never ended. Transactions run in the order they are made, so no staging of this
 * store can begin before the sweep. If the database does not open, the next one sweeps.
 */
export function sweepingFirst(use: UseObjectStore): UseObjectStore {
  let swept = false;
  return (mode, body) => {
    if (swept) return use(mode, body);
    swept = true;
    let made = false;
    return use('readwrite', (os) => {
      made = true;
      sweepStaged(os);
      return body(os);
    }).catch((error: unknown) => {
      if (!made) swept = false; // the database did not open
      throw error;
    });
  };
}

/** Removes the parts of every staging that never ended, and their markers. */
function sweepStaged(os: IDBObjectStore): void {
  const request = os.openCursor(IDBKeyRange.bound([STAGING_DAG], [STAGING_DAG, []]));
  request.onsuccess = () => {
    const cursor = request.result;
    if (cursor === null) return;
    const stamp = (cursor.key as unknown[])[1];
    const { dagId, dataId } = (cursor.value ?? {}) as { dagId?: unknown; dataId?: unknown };
    if (typeof stamp === 'string' && typeof dagId === 'string' && typeof dataId === 'string')
      os.delete(ownParts(dagId, dataId, { stamp } as PartsHead));
    cursor.delete();
    cursor.continue();
  };
}
