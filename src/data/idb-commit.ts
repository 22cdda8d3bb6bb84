import { StorageError } from '../errors.ts';
import {
  BUNDLE_BYTES,
  type BundleIndex,
  type BundleRecord,
  bundleKey,
  bundles,
  wholeDagRange,
} from './idb-bundles.ts';
import { partRange, putParts } from './idb-parts.ts';
import { commitStaged, type StampedHead } from './idb-staging.ts';
import { dataKey } from './keys.ts';
import type { Split } from './parts.ts';

export type Write =
  | {
      readonly kind: 'put';
      readonly dagId: string;
      readonly dataId: string;
      readonly value: unknown;
      /** Set for a value kept in parts: it commits alone, in its own transaction. */
      readonly split?: Split | undefined;
      /** Small enough to share a bundle with the DAG's other values of the commit. */
      readonly small?: boolean;
    }
  | {
      /** A value written as it arrived (`idb-staging.ts`): it commits alone. */
      readonly kind: 'commit';
      readonly dagId: string;
      readonly dataId: string;
      readonly head: StampedHead;
    }
  | { readonly kind: 'delete'; readonly dagId: string; readonly dataId: string }
  | { readonly kind: 'clear'; readonly dagId: string; readonly dataId?: undefined };

export interface Queued {
  readonly write: Write;
  readonly resolve: () => void;
  readonly reject: (error: StorageError) => void;
  /** Its value's size as stored, roughly (puts). */
  readonly bytes: number;
}

/** A bundle being filled: its record and the writes it carries. */
interface Open {
  readonly record: BundleRecord;
  readonly items: Queued[];
  bytes: number;
}

/**
 * Applies one commit's writes to its transaction, in their order: small values of a DAG go into
 * bundles (see `idb-bundles.ts`), everything else under its own key. Returns the writes that
 * went in; one that throws at once (a value that cannot be cloned) is rejected alone.
 */
export class CommitWriter {
  readonly #open = new Map<string, Open>();
  readonly applied: Queued[] = [];
  /** DAGs this commit changed: what is known of their bundles is wrong if it aborts. */
  readonly touched = new Set<string>();

  constructor(
    readonly os: IDBObjectStore,
    readonly index: BundleIndex,
    /** Items this store wrote in parts: a later small value there drops the old parts. */
    readonly parted: Set<string>,
  ) {}

  add(item: Queued): void {
    const { write } = item;
    const { dagId } = write;
    this.touched.add(dagId);
    try {
      if (write.kind === 'put' && write.small === true && bundles(dagId)) {
        this.#dropParts(dagId, write.dataId);
        const open = this.#bundle(dagId);
        open.record.ids.push(write.dataId);
        open.record.values.push(write.value);
        open.items.push(item);
        open.bytes += item.bytes;
        if (open.bytes >= BUNDLE_BYTES || open.items.length >= 256) this.#close(dagId);
        return;
      }
      if (write.kind === 'put') {
        if (write.split !== undefined) {
          // It commits alone: a part that fails aborts the drop too.
          this.#drop(dagId, write.dataId);
          this.#close(dagId);
          putParts(this.os, dagId, write.dataId, write.split);
          this.parted.add(dataKey(dagId, write.dataId));
        } else {
          this.os.put(write.value, [dagId, write.dataId]); // a value that cannot be cloned throws here
          this.#drop(dagId, write.dataId);
          this.#dropParts(dagId, write.dataId);
        }
      } else if (write.kind === 'commit') {
        this.#drop(dagId, write.dataId);
        this.#close(dagId);
        const outcome = { ok: true };
        commitStaged(this.os, dagId, write.dataId, write.head, outcome);
        this.parted.add(dataKey(dagId, write.dataId));
        const why = 'its parts were removed as they came (a delete or a clear came first)';
        this.applied.push({
          ...item,
          resolve: () =>
            outcome.ok
              ? item.resolve()
              : item.reject(new StorageError('put', dagId, write.dataId, why)),
        });
        return;
      } else if (write.kind === 'delete') {
        this.#drop(dagId, write.dataId);
        this.os.delete([dagId, write.dataId]);
        this.os.delete(partRange(dagId, write.dataId));
      } else {
        this.#close(dagId); // its values come before the clear, and go with it
        this.os.delete(wholeDagRange(dagId));
        this.index.forget(dagId, true);
      }
      this.applied.push(item);
    } catch (cause) {
      item.reject(new StorageError(write.kind, write.dagId, write.dataId, cause));
    }
  }

  /** Puts every bundle still open. */
  finish(): void {
    for (const dagId of [...this.#open.keys()]) this.#close(dagId);
  }

  #bundle(dagId: string): Open {
    let open = this.#open.get(dagId);
    if (open === undefined) {
      open = { record: { ids: [], values: [], drops: [] }, items: [], bytes: 0 };
      this.#open.set(dagId, open);
    }
    return open;
  }

  /** Puts the DAG's open bundle; if it cannot be cloned whole, each value goes alone. */
  #close(dagId: string): void {
    const open = this.#open.get(dagId);
    if (open === undefined) return;
    this.#open.delete(dagId);
    const { record, items } = open;
    if (record.ids.length === 0 && record.drops.length === 0) return;
    try {
      this.#put(dagId, record);
      this.applied.push(...items);
      return;
    } catch {
      // A value that cannot be cloned fails alone: the others go one bundle each.
    }
    if (record.drops.length > 0) this.#put(dagId, { ids: [], values: [], drops: record.drops });
    record.ids.forEach((id, i) => {
      const item = items[i] as Queued;
      try {
        this.#put(dagId, { ids: [id], values: [record.values[i]], drops: [] });
        this.applied.push(item);
      } catch (cause) {
        item.reject(new StorageError('put', dagId, id, cause));
      }
    });
  }

  /** The id's latest write is not in a bundle: a bundle of the commit says so, if need be. */
  #drop(dagId: string, dataId: string): void {
    if (!bundles(dagId) || !this.index.mayHold(dagId, dataId)) return;
    if (this.#open.get(dagId)?.record.ids.includes(dataId)) this.#close(dagId);
    this.#bundle(dagId).record.drops.push(dataId);
  }

  #put(dagId: string, record: BundleRecord): void {
    const n = this.index.nextBundle();
    this.os.put(record, bundleKey(dagId, this.index.stamp, n));
    this.index.wrote(dagId, n, record);
  }

  #dropParts(dagId: string, dataId: string): void {
    if (!this.parted.delete(dataKey(dagId, dataId))) return;
    this.os.delete([dagId, dataId]);
    this.os.delete(partRange(dagId, dataId));
  }
}
