import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RESULTS_STORE } from '../../src/data/idb-store.ts';
import { STAGING_DAG } from '../../src/data/idb-sweep.ts';
import { createIndexedDbStore, type ResultStore } from '../../src/index.ts';
import { createSqliteStore } from '../../src/node/index.ts';

// Stores with small part sizes, and ways to look at what they hold beside them (parts.test.ts,
// staging.test.ts). Import 'fake-indexeddb/auto' before this.

const scratch = mkdtempSync(join(tmpdir(), 'handout-parts-'));
let count = 0;
/** The stores cut as they do at 32 MiB and 8 MiB, at a size unit tests run fast with. */
export const KIB = 1024;
export const sizes = { splitBytes: 32 * KIB, partBytes: 8 * KIB };

/**
 * A store, and a count of its stored parts read beside it (how values are laid out otherwise
 * differs: IndexedDB keeps small values in bundles, see idb-bundles.test.ts).
 */
export interface Subject {
  readonly store: ResultStore;
  parts(): Promise<number>;
  /** Removes one stored part, as a broken disk might. */
  losePart(dagId: string, dataId: string, i: number): Promise<void>;
  /** Records saying a value is being staged (`stageParts`), or was: SQLite keeps its stamps. */
  markers(): Promise<number>;
  /** A new store over the same database (close this one first). */
  reopen(): Subject;
}

export function idb(name = `parts-${++count}`): Subject {
  // Resolves with `empty` while the store has not made its object store yet.
  const raw = <T>(
    mode: IDBTransactionMode,
    body: (os: IDBObjectStore) => IDBRequest<T>,
    empty?: T,
  ) =>
    new Promise<T>((resolve, reject) => {
      const open = indexedDB.open(name);
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        if (!db.objectStoreNames.contains(RESULTS_STORE)) {
          db.close();
          return empty === undefined ? reject(new Error('no object store yet')) : resolve(empty);
        }
        const request = body(db.transaction(RESULTS_STORE, mode).objectStore(RESULTS_STORE));
        request.onsuccess = () => {
          db.close();
          resolve(request.result);
        };
        request.onerror = () => {
          db.close();
          reject(request.error);
        };
      };
    });
  return {
    store: createIndexedDbStore(name, sizes),
    parts: async () => {
      const keys = await raw('readonly', (os) => os.getAllKeys(), []);
      // `[dagId, dataId, i]`, or `[dagId, dataId, stamp, i]` for a staged part
      return keys.filter((k) => Array.isArray(k) && k.length >= 3 && k[0] !== STAGING_DAG).length;
    },
    losePart: async (dagId, dataId, i) =>
      void (await raw('readwrite', (os) => os.delete([dagId, dataId, i]))),
    markers: async () => {
      const keys = await raw('readonly', (os) => os.getAllKeys(), []);
      return keys.filter((k) => Array.isArray(k) && k[0] === STAGING_DAG).length;
    },
    reopen: () => idb(name),
  };
}

export function sqlite(path = join(scratch, `parts-${++count}.db`)): Subject {
  const store = createSqliteStore(path, sizes);
  const raw = () => new Database(path);
  const parts = async () => {
    const db = raw();
    const n = db.prepare('SELECT count(*) FROM parts');
    const total = n.pluck().get() as number;
    db.close();
    return total;
  };
  return {
    store,
    parts,
    losePart: async (dagId, dataId, i) => {
      const db = raw();
      db.prepare('DELETE FROM parts WHERE dag = ? AND item = ? AND i = ?').run(dagId, dataId, i);
      db.close();
    },
    markers: async () => {
      const db = raw();
      const total = db.prepare('SELECT count(*) FROM stamps WHERE committed = 0').pluck().get();
      db.close();
      return total as number;
    },
    reopen: () => sqlite(path),
  };
}

/** A value whose bulk is one typed array of `kib` KiB, its elements numbered. */
export function big(kib: number) {
  const samples = new Float64Array((kib * KIB) / 8);
  for (let i = 0; i < samples.length; i++) samples[i] = i;
  samples[samples.length - 1] = -1;
  return { name: 'scan', samples, meta: new Map([['unit', 'mV']]) };
}

export const partsIn = (kib: number) => Math.ceil((kib * KIB) / sizes.partBytes);
