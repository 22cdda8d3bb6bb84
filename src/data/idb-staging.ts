import { StorageError } from '../errors.ts';
import { committed, type UseObjectStore } from './idb-connection.ts';
import { ownParts, partKey } from './idb-parts.ts';
import { STAGING_DAG } from './idb-sweep.ts';
import { isHead, newStamp, type PartsHead, partCount } from './parts.ts';
import { spaceError } from './space.ts';
import type { StagedParts } from './store.ts';

/**
 * IndexedDB's side of values written as they arrive (`ResultStore.stageParts`). The parts go
 * under a stamp of their own, `[dagId, dataId, stamp, i]`, one transaction each, so a value
 * already under the key is never touched by them; a marker `[STAGING_DAG, stamp]` goes in with
 * the first. The commit, in one transaction, checks that every part is there, removes the old
 * value's parts and puts the head (which names the stamp): readers see the old value or the new
 * one. A staging that never ends (the page closed) leaves its marker, and the store's first
 * transaction after it opens next removes its parts (`idb-sweep.ts`).
 */

/** What staging needs of the store. */
export interface StagingPorts {
  /** The store's transactions. */
  readonly use: UseObjectStore;
  closed(): boolean;
  /** Queues the commit (`commitStaged`) among the store's other writes, in their order. */
  commit(head: StampedHead): Promise<void>;
}

export type StampedHead = PartsHead & { readonly stamp: string };

export function stageInIdb(
  ports: StagingPorts,
  dagId: string,
  dataId: string,
  head: PartsHead,
): StagedParts {
  const staged = { ...head, stamp: newStamp() };
  const count = partCount(staged);
  const bytes = head.buffers.reduce((a, b) => a + b, 0);
  // Each write a transaction of its own, outside the store's queue: nobody reads these yet.
  const write = async (body: (os: IDBObjectStore) => void): Promise<void> => {
    if (ports.closed()) throw new StorageError('put', dagId, dataId, 'store is closed');
    try {
      await ports.use('readwrite', (os) => {
        body(os);
        return committed(os.transaction);
      });
    } catch (cause) {
      const space = await spaceError(cause, [{ kind: 'put', split: { bytes } }]);
      throw new StorageError('put', dagId, dataId, space ?? cause);
    }
  };
  let failed: unknown;
  let written = 0;
  let last = Promise.resolve();
  const remove = () =>
    write((os) => {
      os.delete(ownParts(dagId, dataId, staged));
      os.delete([STAGING_DAG, staged.stamp]);
    }).catch(() => undefined); // swept at the next open
  return {
    part(i, part) {
      if (failed !== undefined) return last;
      const whole = ownBuffer(part);
      last = write((os) => {
        if (written === 0) os.put({ dagId, dataId }, [STAGING_DAG, staged.stamp]);
        os.put(whole, partKey(dagId, dataId, staged, i));
      }).then(
        () => {
          written++;
        },
        (error: unknown) => {
          failed ??= error;
        },
      );
      return last;
    },
    async commit() {
      await last;
      if (failed === undefined && written !== count)
        failed = new StorageError('put', dagId, dataId, `${written} of its ${count} parts came`);
      if (failed === undefined) {
        try {
          return await ports.commit(staged);
        } catch (error) {
          failed = error;
        }
      }
      await remove();
      throw failed;
    },
    async abort() {
      failed ??= new Error('aborted');
      await last;
      await remove();
    },
  };
}

/**
 * Commits a staged value in the transaction (its own): if every part is still there, the old
 * value's parts go and the head comes; if not (a delete or a clear came first), the parts go
 * and `outcome.ok` is false.
 */
export function commitStaged(
  os: IDBObjectStore,
  dagId: string,
  dataId: string,
  head: StampedHead,
  outcome: { ok: boolean },
): void {
  const there = os.count(ownParts(dagId, dataId, head));
  const before = os.get([dagId, dataId]);
  // Requests of a transaction complete in order: the count is known here.
  before.onsuccess = () => {
    os.delete([STAGING_DAG, head.stamp]);
    if (there.result !== partCount(head)) {
      outcome.ok = false;
      os.delete(ownParts(dagId, dataId, head));
      return;
    }
    const old: unknown = before.result;
    if (isHead(old) && old.stamp !== head.stamp) os.delete(ownParts(dagId, dataId, old));
    os.put(head, [dagId, dataId]);
  };
}

/** The bytes as a buffer of their own (a view on part of one would be cloned with all of it). */
function ownBuffer(part: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (!ArrayBuffer.isView(part)) return part;
  const { buffer, byteOffset, byteLength } = part;
  if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength)
    return buffer;
  return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
}
