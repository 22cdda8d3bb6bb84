import { deserialize, serialize } from 'node:v8';
import Database from 'better-sqlite3';
import { DataNotFoundError, StorageError } from '../errors.ts';
import type { ResultStore } from './store.ts';

/**
 * A durable {@link ResultStore} for Node.js: one SQLite file (better-sqlite3), one row per
 * `[dagId, dataId]`, values in V8's structured-clone format (typed arrays, `Map`, `Set`, `Date`
 * and `bigint` keep their types). Writes arriving together commit in one transaction; reads see
 * every write made before them. Survives a restart of the process.
 *
 * @example
 * const node = await createNode({ functions, store: createSqliteStore('./handout.db') });
 */
export function createSqliteStore(path: string): ResultStore {
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS results (dag TEXT NOT NULL, item TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (dag, item)) WITHOUT ROWID',
    );
  } catch (error) {
    throw new StorageError('open', undefined, undefined, error);
  }
  const sql = {
    put: db.prepare('INSERT OR REPLACE INTO results (dag, item, value) VALUES (?, ?, ?)'),
    get: db.prepare('SELECT value FROM results WHERE dag = ? AND item = ?').pluck(),
    has: db.prepare('SELECT 1 FROM results WHERE dag = ? AND item = ?').pluck(),
    delete: db.prepare('DELETE FROM results WHERE dag = ? AND item = ?'),
    clear: db.prepare('DELETE FROM results WHERE dag = ?'),
    keys: db.prepare('SELECT item FROM results WHERE dag = ? ORDER BY item').pluck(),
    dags: db.prepare('SELECT DISTINCT dag FROM results ORDER BY dag').pluck(),
  };
  /** Writes waiting for the next commit. */
  let pending: { dag: string; item: string; value: Buffer; done: (e?: unknown) => void }[] = [];
  let closed = false;
  const commit = db.transaction((rows: typeof pending) => {
    for (const row of rows) sql.put.run(row.dag, row.item, row.value);
  });
  const flush = () => {
    const rows = pending;
    pending = [];
    if (rows.length === 0) return;
    try {
      commit(rows);
      for (const row of rows) row.done();
    } catch (error) {
      for (const row of rows) row.done(new StorageError('put', row.dag, row.item, error));
    }
  };
  const guard = <T>(
    operation: string,
    dagId: string | undefined,
    dataId: string | undefined,
    run: () => T,
  ) => {
    if (closed)
      return Promise.reject(new StorageError(operation, dagId, dataId, 'the store is closed'));
    try {
      flush();
      return Promise.resolve(run());
    } catch (error) {
      return Promise.reject(
        error instanceof DataNotFoundError
          ? error
          : new StorageError(operation, dagId, dataId, error),
      );
    }
  };
  return {
    name: `sqlite:${path}`,
    put(dagId, dataId, value) {
      if (closed)
        return Promise.reject(new StorageError('put', dagId, dataId, 'the store is closed'));
      let bytes: Buffer;
      try {
        bytes = serialize(value);
      } catch (error) {
        return Promise.reject(new StorageError('put', dagId, dataId, error));
      }
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({
          dag: dagId,
          item: dataId,
          value: bytes,
          done: (e) => (e ? reject(e) : resolve()),
        });
      });
    },
    get: (dagId, dataId) =>
      guard('get', dagId, dataId, () => {
        const value = sql.get.get(dagId, dataId) as Buffer | undefined;
        if (value === undefined) throw new DataNotFoundError(dagId, dataId);
        return deserialize(value);
      }),
    has: (dagId, dataId) =>
      guard('has', dagId, dataId, () => sql.has.get(dagId, dataId) !== undefined),
    delete: (dagId, dataId) =>
      guard('delete', dagId, dataId, () => void sql.delete.run(dagId, dataId)),
    clearDag: (dagId) => guard('clear', dagId, undefined, () => void sql.clear.run(dagId)),
    keys: (dagId) => guard('keys', dagId, undefined, () => sql.keys.all(dagId) as string[]),
    dags: () => guard('dags', undefined, undefined, () => sql.dags.all() as string[]),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      db.close();
    },
  };
}
