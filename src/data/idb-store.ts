import { promisifyRequest } from 'idb-keyval';
import { DataNotFoundError, StorageError } from '../errors.ts';
import { nextTask } from '../next-task.ts';
import { pageDocument, pageHidden } from '../page.ts';
import {
  BUNDLE_ITEM_BYTES,
  BundleIndex,
  bundles,
  firstKeys,
  readBundled,
  wholeDagRange,
} from './idb-bundles.ts';
import { CommitWriter, type Queued, type Write } from './idb-commit.ts';
import { type Connection, connect, type UseObjectStore } from './idb-connection.ts';
import { isItemKey, readHead, readItem, readPart } from './idb-parts.ts';
import { type StagingPorts, stageInIdb } from './idb-staging.ts';
import { STAGING_DAG, sweepingFirst } from './idb-sweep.ts';
import { type PartSizes, type PartsHead, type StoredParts, splitIfBig } from './parts.ts';
import { storedSize } from './size.ts';
import { spaceError } from './space.ts';
import type { ResultStore, StagedParts } from './store.ts';

/** The object store inside each node's database. */
export const RESULTS_STORE = 'results';

/**
 * A {@link ResultStore} in IndexedDB (via idb-keyval): database `dbName`, object store
 * `results`, keys `[dagId, dataId]`. Values must be structured-cloneable. A value whose
 * binaries pass 32 MiB is kept in parts (see `parts.ts`), head and parts in one transaction.
 *
 * Writes are group-committed: they gather for a short window (and while a transaction is in
 * flight) and go together in the next one, so results that come close together cost a few
 * transactions, not one each; and a DAG's small values of one commit share one record (see
 * `idb-bundles.ts`), as each record costs Chromium's browser process more than its bytes. Each
 * write's promise resolves only when its transaction has committed, and a read sees every write
 * issued before it.
 *
 * @example
 * const store = createIndexedDbStore(`handout-${nodeId}`);
 */
export function createIndexedDbStore(dbName: string, sizes: PartSizes = {}): ResultStore {
  return new IndexedDbStore(dbName, sizes);
}

/**
 * Writes gather this long before they commit. A transaction costs about a millisecond and a
 * half of CPU in Chromium whatever it holds (measured: a pinned chain spent half its CPU on
 * them), so results that come close together share one. What waits on a commit is the
 * durability report and reads; a read commits at once, and a node left with nothing to run
 * asks for its commit at once (`flush`), so a run's end does not wait out the window.
 */
const COMMIT_WINDOW_MS = 8;
/** A batch this large commits without waiting for the window. */
const MAX_BATCH = 256;

class IndexedDbStore implements ResultStore {
  readonly name: string;
  readonly #connection: Connection;
  /** idb-keyval's store function, over a connection that heals itself (see `connect`). */
  readonly #use: UseObjectStore;
  #queue: Queued[] = [];
  #last: Promise<void> = Promise.resolve();
  #flushing = false;
  readonly #onHidden: () => void;
  /** The commit window's timer, while writes gather for the next commit. */
  #window: ReturnType<typeof setTimeout> | undefined;
  /** Someone waits for the queued writes (a read, `close`): the next commit goes at once. */
  #urgent = false;
  #closed = false;
  /** Items this store wrote in parts: a later small value there drops the old parts. */
  readonly #parted = new Set<string>();
  readonly #bundles = new BundleIndex();

  constructor(
    dbName: string,
    readonly sizes: PartSizes,
  ) {
    this.name = `indexeddb:${dbName}`;
    this.#connection = connect(dbName, RESULTS_STORE);
    // Parts of values whose staging never ended (the page closed) go in the first transaction.
    this.#use = sweepingFirst(this.#connection.use);
    // A page going hidden commits what waits: its timers may now wake a second late.
    this.#onHidden = () => {
      if (pageHidden() && this.#window !== undefined) this.#schedule(true);
    };
    pageDocument()?.addEventListener('visibilitychange', this.#onHidden);
  }

  put(dagId: string, dataId: string, value: unknown): Promise<void> {
    const bytes = storedSize(value);
    const parts = splitIfBig(value, this.sizes, bytes);
    const small = bytes < BUNDLE_ITEM_BYTES;
    const done = this.#enqueue({ kind: 'put', dagId, dataId, value, split: parts, small }, bytes);
    if (parts !== undefined) this.#schedule(true); // holding the value longer helps nobody
    return done;
  }

  delete(dagId: string, dataId: string): Promise<void> {
    return this.#enqueue({ kind: 'delete', dagId, dataId });
  }

  clearDag(dagId: string): Promise<void> {
    return this.#enqueue({ kind: 'clear', dagId });
  }

  async get(dagId: string, dataId: string): Promise<unknown> {
    const found = await this.find(dagId, dataId);
    if (found === undefined) throw new DataNotFoundError(dagId, dataId);
    return found.value;
  }

  find(dagId: string, dataId: string): Promise<{ value: unknown } | undefined> {
    return this.#read('get', dagId, dataId, async (os) => {
      const bundled = await this.#bundled(os, dagId, dataId);
      return bundled ?? readItem(os, dagId, dataId);
    });
  }

  /** The value if its latest write is in a bundle. */
  async #bundled(
    os: IDBObjectStore,
    dagId: string,
    dataId: string,
  ): Promise<{ value: unknown } | undefined> {
    if (!bundles(dagId)) return undefined;
    const where = await this.#bundles.find(os, dagId, dataId);
    if (where === undefined) return undefined;
    const found = await readBundled(os, dagId, where);
    return found.found ? { value: found.value } : undefined;
  }

  async openParts(dagId: string, dataId: string): Promise<StoredParts | undefined> {
    const head = await this.#read('get', dagId, dataId, async (os) => {
      if (bundles(dagId) && (await this.#bundles.find(os, dagId, dataId)) !== undefined)
        return undefined; // its latest write is a small value
      return readHead(os, dagId, dataId);
    });
    if (head === undefined) return undefined;
    return {
      head,
      // Each part in a transaction of its own: the reader may take its time between parts.
      part: (i) => this.#read('get', dagId, dataId, (os) => readPart(os, dagId, dataId, head, i)),
    };
  }

  has(dagId: string, dataId: string): Promise<boolean> {
    return this.#read('has', dagId, dataId, async (os) => {
      if ((await this.#bundled(os, dagId, dataId)) !== undefined) return true;
      return (await promisifyRequest(os.count([dagId, dataId]))) > 0;
    });
  }

  keys(dagId: string): Promise<string[]> {
    return this.#read('keys', dagId, undefined, async (os) => {
      const bundled = bundles(dagId) ? await this.#bundles.load(os, dagId) : new Map();
      const keys = await promisifyRequest(os.getAllKeys(wholeDagRange(dagId)));
      const own = keys.filter(isItemKey).map((key) => key[1]);
      return [...new Set([...own, ...bundled.keys()])];
    });
  }

  dags(): Promise<string[]> {
    return this.#read('dags', undefined, undefined, async (os) => {
      const ids: string[] = [];
      for (const [dagId, second] of await firstKeys(os)) {
        if (dagId === STAGING_DAG) continue;
        // A DAG with only bundles may have had all their ids deleted since.
        if (!Array.isArray(second) || (await this.#bundles.load(os, dagId)).size > 0)
          ids.push(dagId);
      }
      return ids;
    });
  }

  stageParts(dagId: string, dataId: string, head: PartsHead): StagedParts {
    const ports: StagingPorts = {
      use: this.#use,
      closed: () => this.#closed,
      commit: (staged) => this.#enqueue({ kind: 'commit', dagId, dataId, head: staged }),
    };
    return stageInIdb(ports, dagId, dataId, head);
  }

  flush(): void {
    if (this.#queue.length > 0) this.#schedule(true);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flush();
    pageDocument()?.removeEventListener('visibilitychange', this.#onHidden);
    await this.#last.catch(() => undefined);
    this.#closed = true;
    await this.#connection.close();
  }

  #enqueue(write: Write, bytes = 0): Promise<void> {
    if (this.#closed) {
      return Promise.reject(
        new StorageError(write.kind, write.dagId, write.dataId, 'store is closed'),
      );
    }
    const done = new Promise<void>((resolve, reject) => {
      this.#queue.push({ write, resolve, reject, bytes });
    });
    this.#last = done;
    this.#schedule();
    return done;
  }

  /**
   * Starts the next commit: at once when the batch is full or the page is hidden (its timers
   * wake only once a second), else when the window closes, gathering what comes meanwhile.
   */
  #schedule(now = false): void {
    if (now) this.#urgent = true;
    if (this.#flushing) return;
    if (this.#urgent || this.#queue.length >= MAX_BATCH || pageHidden()) {
      this.#urgent = false;
      clearTimeout(this.#window);
      this.#window = undefined;
      this.#flushing = true;
      nextTask(() => void this.#flush());
    } else if (this.#window === undefined) {
      this.#window = setTimeout(() => {
        this.#window = undefined;
        this.#schedule(true);
      }, COMMIT_WINDOW_MS);
    }
  }

  /**
   * Commits what is queued, then opens the next window for what came meanwhile. A value in parts
   * commits alone: a failure of its (large) transaction fails no other write.
   */
  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    let run: Queued[] = [];
    for (const item of batch) {
      const alone = item.write.kind === 'commit' || (item.write.kind === 'put' && item.write.split);
      if (!alone) {
        run.push(item);
        continue;
      }
      if (run.length > 0) await this.#commit(run);
      run = [];
      await this.#commit([item]);
    }
    if (run.length > 0) await this.#commit(run);
    this.#flushing = false;
    if (this.#queue.length > 0) this.#schedule();
  }

  /** One transaction for the whole batch; settles every write in it. */
  async #commit(batch: Queued[]): Promise<void> {
    let writer: CommitWriter | undefined;
    try {
      await this.#use('readwrite', (os) => {
        writer = new CommitWriter(os, this.#bundles, this.#parted);
        for (const item of batch) writer.add(item);
        writer.finish();
        return promisifyRequest(os.transaction);
      });
      for (const item of writer?.applied ?? []) item.resolve();
    } catch (cause) {
      // The transaction aborted (quota, closed database...): nothing in it was written.
      for (const dagId of writer?.touched ?? []) this.#bundles.forget(dagId, false);
      const failed = writer !== undefined && writer.applied.length > 0 ? writer.applied : batch;
      const space = await spaceError(
        cause,
        failed.map(({ write }) => write),
      );
      for (const { write, reject } of failed) {
        reject(new StorageError(write.kind, write.dagId, write.dataId, space ?? cause));
      }
    }
  }

  async #read<T>(
    operation: string,
    dagId: string | undefined,
    dataId: string | undefined,
    body: (os: IDBObjectStore) => Promise<T>,
  ): Promise<T> {
    if (this.#closed) throw new StorageError(operation, dagId, dataId, 'store is closed');
    // Writes still queued go into a later transaction than a read made now: wait for them,
    // so that a read always sees every write issued before it.
    if (this.#queue.length > 0) {
      this.#schedule(true);
      await this.#last.catch(() => undefined);
    }
    try {
      return await this.#use('readonly', body);
    } catch (cause) {
      throw new StorageError(operation, dagId, dataId, cause);
    }
  }
}
