import { createRequire } from 'node:module';
import { deserialize, serialize } from 'node:v8';
import type Database from 'better-sqlite3';
import { DataNotFoundError, MissingPackageError, StorageError } from '../errors.ts';
import { Assembly } from './assembly.ts';
import {
  isHead,
  type PartSizes,
  type PartsHead,
  partCount,
  partViews,
  type Split,
  splitIfBig,
} from './parts.ts';
import { partsAt, STAMPS_TABLE, stageInSqlite, stampStatements } from './sqlite-staging.ts';
import type { ResultStore } from './store.ts';

/**
 * better-sqlite3, an optional peer dependency of `handout` (a native build a web app must never
 * pull in), loaded when the first SQLite store is made; a missing one is named with its `npm i`.
 */
function sqlite(): typeof Database {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingPackageError(['better-sqlite3'], 'createSqliteStore', { cause: error });
  }
}

/**
 * A durable {@link ResultStore} for Node.js: one SQLite file (better-sqlite3), one row per
 * `[dagId, dataId]`, values in V8's structured-clone format (typed arrays, `Map`, `Set`, `Date`
 * and `bigint` keep their types). Writes arriving together commit in one transaction; reads see
 * every write made before them. Survives a restart of the process. A value whose binaries pass
 * 32 MiB is kept in parts (table `parts`, see `parts.ts`), in the same transaction as its head.
 *
 * @example
 * const node = await createNode({ functions, store: createSqliteStore('./handout.db') });
 */
export function createSqliteStore(path: string, sizes: PartSizes = {}): ResultStore {
  const Sqlite = sqlite();
  let db: Database.Database;
  try {
    db = new Sqlite(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec(
      'CREATE TABLE IF NOT EXISTS results (dag TEXT NOT NULL, item TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (dag, item)) WITHOUT ROWID',
    );
    db.exec(
      'CREATE TABLE IF NOT EXISTS parts (dag TEXT NOT NULL, item TEXT NOT NULL, i INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (dag, item, i))',
    );
    db.exec(STAMPS_TABLE);
    db.exec('CREATE INDEX IF NOT EXISTS stamps_item ON stamps (dag, item)');
  } catch (error) {
    throw new StorageError('open', undefined, undefined, error);
  }
  const sql = {
    put: db.prepare('INSERT OR REPLACE INTO results (dag, item, value) VALUES (?, ?, ?)'),
    get: db.prepare('SELECT value FROM results WHERE dag = ? AND item = ?').pluck(),
    has: db.prepare('SELECT 1 FROM results WHERE dag = ? AND item = ?').pluck(),
    delete: db.prepare('DELETE FROM results WHERE dag = ? AND item = ?'),
    clear: db.prepare('DELETE FROM results WHERE dag = ?'),
    putPart: db.prepare('INSERT INTO parts (dag, item, i, bytes) VALUES (?, ?, ?, ?)'),
    parts: db.prepare('SELECT bytes FROM parts WHERE dag = ? AND item = ? ORDER BY i').pluck(),
    part: db.prepare('SELECT bytes FROM parts WHERE dag = ? AND item = ? AND i = ?').pluck(),
    deleteParts: db.prepare('DELETE FROM parts WHERE dag = ? AND item = ?'),
    clearParts: db.prepare('DELETE FROM parts WHERE dag = ?'),
    keys: db.prepare('SELECT item FROM results WHERE dag = ? ORDER BY item').pluck(),
    dags: db.prepare('SELECT DISTINCT dag FROM results ORDER BY dag').pluck(),
  };
  const stamps = stampStatements(db);
  // Parts of values whose staging never ended (the process stopped) go at once.
  db.transaction(() => {
    stamps.sweepParts();
    stamps.sweep.run();
  })();
  /** Every part under an item (its value's, any being staged) but those of stamp `keep`. */
  const dropParts = (dag: string, item: string, keep = '') => {
    sql.deleteParts.run(dag, item);
    stamps.dropItem(dag, item, keep);
    stamps.forgetItem.run(dag, item, keep);
  };
  const replace = db.transaction((dag: string, item: string, head: PartsHead) => {
    dropParts(dag, item, head.stamp);
    sql.put.run(dag, item, serialize(head));
    if (head.stamp !== undefined) stamps.commit.run(head.stamp);
  });
  /** Writes waiting for the next commit. */
  let pending: {
    dag: string;
    item: string;
    value: Buffer;
    split?: Split | undefined;
    done: (e?: unknown) => void;
  }[] = [];
  let closed = false;
  const commit = db.transaction((rows: typeof pending) => {
    for (const row of rows) {
      dropParts(row.dag, row.item);
      let i = 0;
      for (const part of row.split === undefined ? [] : partViews(row.split)) {
        const bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
        sql.putPart.run(row.dag, row.item, i++, bytes);
      }
      sql.put.run(row.dag, row.item, row.value);
    }
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
        error instanceof DataNotFoundError || error instanceof StorageError
          ? error
          : new StorageError(operation, dagId, dataId, error),
      );
    }
  };
  const read = (dagId: string, dataId: string): { value: unknown } | undefined => {
    const value = sql.get.get(dagId, dataId) as Buffer | undefined;
    if (value === undefined) return undefined;
    const record: unknown = deserialize(value);
    return {
      value: isHead(record)
        ? assemble(record, sql.parts.iterate(...partsAt(dagId, dataId, record)) as Iterable<Buffer>)
        : record,
    };
  };
  return {
    name: `sqlite:${path}`,
    put(dagId, dataId, value) {
      if (closed)
        return Promise.reject(new StorageError('put', dagId, dataId, 'the store is closed'));
      let bytes: Buffer;
      let parts: Split | undefined;
      try {
        parts = splitIfBig(value, sizes);
        bytes = serialize(parts?.head ?? value);
      } catch (error) {
        return Promise.reject(new StorageError('put', dagId, dataId, error));
      }
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({
          dag: dagId,
          item: dataId,
          value: bytes,
          split: parts,
          done: (e) => (e ? reject(e) : resolve()),
        });
      });
    },
    get: (dagId, dataId) =>
      guard('get', dagId, dataId, () => {
        const found = read(dagId, dataId);
        if (found === undefined) throw new DataNotFoundError(dagId, dataId);
        return found.value;
      }),
    find: (dagId, dataId) => guard('get', dagId, dataId, () => read(dagId, dataId)),
    openParts: (dagId, dataId) =>
      guard('get', dagId, dataId, () => {
        const value = sql.get.get(dagId, dataId) as Buffer | undefined;
        const record: unknown = value === undefined ? undefined : deserialize(value);
        if (!isHead(record)) return undefined;
        return {
          head: record,
          part: (i: number) =>
            guard('get', dagId, dataId, () => {
              const at = partsAt(dagId, dataId, record);
              const bytes = sql.part.get(...at, i) as Buffer | undefined;
              if (bytes === undefined) throw new Error(`part ${i} is not stored`);
              return bytes;
            }),
        };
      }),
    stageParts: (dagId, dataId, head) =>
      stageInSqlite(
        { stamps, putPart: sql.putPart, closed: () => closed, guard, replace },
        dagId,
        dataId,
        head,
      ),
    has: (dagId, dataId) =>
      guard('has', dagId, dataId, () => sql.has.get(dagId, dataId) !== undefined),
    delete: (dagId, dataId) =>
      guard('delete', dagId, dataId, () => {
        sql.delete.run(dagId, dataId);
        dropParts(dagId, dataId);
      }),
    clearDag: (dagId) =>
      guard('clear', dagId, undefined, () => {
        sql.clear.run(dagId);
        sql.clearParts.run(dagId);
        stamps.dropDag(dagId);
        stamps.forgetDag.run(dagId);
      }),
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

/** A value in parts, from its head and its parts in order; throws when some are missing. */
function assemble(head: Parameters<typeof partCount>[0], parts: Iterable<Buffer>): unknown {
  const assembly = new Assembly(head);
  let count = 0;
  for (const part of parts) {
    // One part at a time: the process never holds them all beside the value.
    if (!assembly.add(part)) break;
    count++;
  }
  const whole = assembly.value();
  if (whole === undefined || count !== partCount(head))
    throw new Error(`${count} of its ${partCount(head)} parts are stored`);
  return whole.value;
}
