import { StorageError } from '../errors.ts';
import { newStamp, type PartsHead, partCount } from './parts.ts';
import type { StagedParts } from './store.ts';

/**
 * The SQLite store's side of values written as they arrive (`ResultStore.stageParts`). Their
 * parts are rows of table `parts` under a DAG id no `Dag` can have and the stamp as item, so
 * they never touch a value already under the key; table `stamps` says whose they are, and
 * whether they are committed. The commit, in one transaction, checks every part is there,
 * removes the old value's parts and puts the head (which names the stamp). Stagings that never
 * ended (the process stopped) are swept when the store opens.
 */

/** Where stamped parts are kept in table `parts`. */
const STAGED = '\u0000handout:staged';

export const STAMPS_TABLE =
  'CREATE TABLE IF NOT EXISTS stamps (stamp TEXT PRIMARY KEY, dag TEXT NOT NULL, item TEXT NOT NULL, committed INTEGER NOT NULL)';

/** Where a head's parts are in table `parts`: `[dag, item]`. */
export function partsAt(dagId: string, dataId: string, head: PartsHead): [string, string] {
  return head.stamp === undefined ? [dagId, dataId] : [STAGED, head.stamp];
}

/** What this file uses of a better-sqlite3 statement (only `sqlite-store.ts` imports it). */
export interface Statement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
}

/** The statements of stamped parts, over an open database (`run` binds {@link STAGED} first). */
export function stampStatements(db: { prepare(sql: string): Statement }) {
  const drop = (stamps: string) => `DELETE FROM parts WHERE dag = ? AND item IN (${stamps})`;
  const of = 'SELECT stamp FROM stamps WHERE dag = ? AND item = ?';
  const run =
    (statement: Statement) =>
    (...args: unknown[]) =>
      statement.run(STAGED, ...args);
  return {
    add: db.prepare('INSERT INTO stamps (stamp, dag, item, committed) VALUES (?, ?, ?, 0)'),
    commit: db.prepare('UPDATE stamps SET committed = 1 WHERE stamp = ?'),
    count: db.prepare('SELECT COUNT(*) AS n FROM parts WHERE dag = ? AND item = ?'),
    dropOne: run(db.prepare('DELETE FROM parts WHERE dag = ? AND item = ?')),
    forgetOne: db.prepare('DELETE FROM stamps WHERE stamp = ?'),
    /** Every stamp of an item but one (`''` for all). */
    dropItem: run(db.prepare(drop(`${of} AND stamp != ?`))),
    forgetItem: db.prepare('DELETE FROM stamps WHERE dag = ? AND item = ? AND stamp != ?'),
    dropDag: run(db.prepare(drop('SELECT stamp FROM stamps WHERE dag = ?'))),
    forgetDag: db.prepare('DELETE FROM stamps WHERE dag = ?'),
    sweepParts: run(db.prepare(drop('SELECT stamp FROM stamps WHERE committed = 0'))),
    sweep: db.prepare('DELETE FROM stamps WHERE committed = 0'),
  };
}

type Stamps = ReturnType<typeof stampStatements>;

/** What staging needs of the store. */
export interface SqliteStaging {
  readonly stamps: Stamps;
  readonly putPart: Statement;
  closed(): boolean;
  /** Runs `body` after the writes queued before it (the store's `guard`). */
  guard(operation: string, dagId: string, dataId: string, body: () => void): Promise<void>;
  /** In one transaction: the old value's parts go, the head comes. */
  replace(dagId: string, dataId: string, head: PartsHead): void;
}

export function stageInSqlite(
  ports: SqliteStaging,
  dagId: string,
  dataId: string,
  head: PartsHead,
): StagedParts {
  const { stamps } = ports;
  const staged = { ...head, stamp: newStamp() };
  const count = partCount(staged);
  let failed: unknown;
  let written = 0;
  const remove = () => {
    stamps.dropOne(staged.stamp);
    stamps.forgetOne.run(staged.stamp);
  };
  const ended = (reason: string) =>
    ports.guard('put', dagId, dataId, () => {
      remove();
      throw failed ?? new StorageError('put', dagId, dataId, reason);
    });
  return {
    part(i, part) {
      if (failed !== undefined) return Promise.resolve();
      try {
        if (ports.closed()) throw new Error('the store is closed');
        if (written === 0) stamps.add.run(staged.stamp, dagId, dataId);
        const bytes = Buffer.from(
          ArrayBuffer.isView(part) ? part.buffer : part,
          ArrayBuffer.isView(part) ? part.byteOffset : 0,
          part.byteLength,
        );
        ports.putPart.run(...partsAt(dagId, dataId, staged), i, bytes);
        written++;
      } catch (error) {
        failed = new StorageError('put', dagId, dataId, error);
      }
      return Promise.resolve();
    },
    commit() {
      if (failed !== undefined || written !== count)
        return ended(`${written} of its ${count} parts came`);
      return ports.guard('put', dagId, dataId, () => {
        const there = stamps.count.get(...partsAt(dagId, dataId, staged)) as { n: number };
        if (there.n !== count) {
          remove();
          throw new Error('its parts were removed as they came (a delete or a clear came first)');
        }
        ports.replace(dagId, dataId, staged);
      });
    },
    abort() {
      failed ??= new StorageError('put', dagId, dataId, 'aborted');
      return ended('aborted').catch(() => undefined);
    },
  };
}
