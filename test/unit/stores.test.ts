import 'fake-indexeddb/auto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findValue } from '../../src/data/store.ts';
import {
  createIndexedDbStore,
  createMemoryStore,
  createNode,
  Dag,
  DataNotFoundError,
  type ResultStore,
  StorageError,
} from '../../src/index.ts';
import { createSqliteStore } from '../../src/node/index.ts';
import { arithmetic, rejection } from './helpers.ts';

let dbCount = 0;
const scratch = mkdtempSync(join(tmpdir(), 'handout-stores-'));
const stores: Record<string, () => ResultStore> = {
  memory: () => createMemoryStore(),
  indexeddb: () => createIndexedDbStore(`test-db-${++dbCount}`),
  sqlite: () => createSqliteStore(join(scratch, `test-${++dbCount}.db`)),
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe.each(Object.entries(stores))('%s store', (_, make) => {
  it('keeps values under [dagId, dataId], separately per DAG', async () => {
    const store = make();
    await Promise.all([
      store.put('d1', 'a', { x: 1 }),
      store.put('d1', 'b', [1, 2]),
      store.put('d2', 'a', 'other dag'),
    ]);
    expect(await store.get('d1', 'a')).toEqual({ x: 1 });
    expect(await store.get('d2', 'a')).toBe('other dag');
    expect((await store.keys('d1')).sort()).toEqual(['a', 'b']);
    expect(await store.keys('nope')).toEqual([]);
    expect((await store.dags()).sort()).toEqual(['d1', 'd2']);
    await store.close();
  });

  it('tells a stored undefined from a missing key', async () => {
    const store = make();
    await store.put('d', 'u', undefined);
    expect(await store.has('d', 'u')).toBe(true);
    expect(await store.get('d', 'u')).toBeUndefined();
    expect(await store.has('d', 'missing')).toBe(false);
    const error = await rejection(store.get('d', 'missing'));
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error).toMatchObject({ dagId: 'd', dataId: 'missing' });
    // find tells the two apart in one read, and findValue does so for a store without it.
    expect(await store.find?.('d', 'u')).toEqual({ value: undefined });
    expect(await store.find?.('d', 'missing')).toBeUndefined();
    const without = {
      has: (d: string, i: string) => store.has(d, i),
      get: (d: string, i: string) => store.get(d, i),
    } as ResultStore;
    for (const s of [store, without]) {
      expect(await findValue(s, 'd', 'u')).toEqual({ value: undefined });
      expect(await findValue(s, 'd', 'missing')).toBeUndefined();
    }
  });

  it('deletes one item and clears one DAG without touching others', async () => {
    const store = make();
    await Promise.all(['a', 'b', 'c'].map((id) => store.put('d1', id, id)));
    await store.put('d2', 'a', 'keep');
    await store.put('d10', 'a', 'keep too'); // a DAG id that shares a prefix
    await store.delete('d1', 'b');
    expect((await store.keys('d1')).sort()).toEqual(['a', 'c']);
    await store.clearDag('d1');
    expect(await store.keys('d1')).toEqual([]);
    expect(await store.get('d2', 'a')).toBe('keep');
    expect(await store.get('d10', 'a')).toBe('keep too');
    expect((await store.dags()).sort()).toEqual(['d10', 'd2']);
  });

  it('reads see every write issued before them', async () => {
    const store = make();
    void store.put('d', 'k', 1);
    void store.put('d', 'k', 2);
    expect(await store.get('d', 'k')).toBe(2);
    void store.clearDag('d');
    expect(await store.has('d', 'k')).toBe(false);
  });
});

describe('SQLite store (Node.js)', () => {
  it('survives a restart: a new store on the same file reads what the old one wrote', async () => {
    const file = join(scratch, 'restart.db');
    const first = createSqliteStore(file);
    const bytes = new Uint8Array([1, 2, 3]);
    await Promise.all([
      first.put('d', 'bytes', bytes),
      first.put('d', 'map', new Map([['k', 1n]])),
      first.put('e', 'x', undefined),
    ]);
    await first.close();
    const again = createSqliteStore(file);
    expect(await again.get('d', 'bytes')).toEqual(bytes);
    expect(await again.get('d', 'map')).toEqual(new Map([['k', 1n]]));
    expect(await again.has('e', 'x')).toBe(true);
    expect(await again.dags()).toEqual(['d', 'e']);
    await again.close();
    await expect(again.get('d', 'bytes')).rejects.toBeInstanceOf(StorageError);
  });

  it('fails a value it cannot serialize with StorageError naming DAG and item', async () => {
    const store = createSqliteStore(join(scratch, 'bad.db'));
    const error = await rejection(store.put('d', 'f', () => 1));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ dagId: 'd', dataId: 'f' });
    await store.close();
  });
});

describe('IndexedDB store', () => {
  it('group-commits a burst of writes into few transactions', async () => {
    const store = createIndexedDbStore(`burst-${++dbCount}`);
    await store.dags(); // open the database first
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.put('d', `k${i}`, i)));
    const writes = transaction.mock.calls.filter(([, mode]) => mode === 'readwrite');
    expect(writes.length).toBeGreaterThan(0);
    expect(writes.length).toBeLessThanOrEqual(3);
    expect(await store.keys('d')).toHaveLength(500);
  });

  it('gathers writes that come turn after turn into one commit, within its window', async () => {
    const store = createIndexedDbStore(`window-${++dbCount}`);
    await store.dags();
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const writes: Promise<void>[] = [];
    // The window's timer stands still until we move it: turns that come slowly on a loaded
    // machine must not decide the outcome (they split the commit once, in CI).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      // A result every turn, as a chain of tasks makes them: not one burst.
      for (let i = 0; i < 5; i++) {
        writes.push(store.put('d', `k${i}`, i));
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      expect(transaction.mock.calls.filter(([, mode]) => mode === 'readwrite')).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(8); // the window closes: everything in it commits
    } finally {
      vi.useRealTimers();
    }
    await Promise.all(writes);
    expect(transaction.mock.calls.filter(([, mode]) => mode === 'readwrite')).toHaveLength(1);
    expect(await store.keys('d')).toHaveLength(5);
  });

  it('commits at once for a read, and on a hidden page, rather than wait for the window', async () => {
    const store = createIndexedDbStore(`urgent-${++dbCount}`);
    await store.dags();
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const write = store.put('d', 'a', 1);
    expect(setTimer).toHaveBeenCalledTimes(1); // the window opened
    // Neither may wait for that timer: fake time stands still from here on.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      expect(await store.get('d', 'a')).toBe(1);
      await write;
      const hidden = { hidden: true, addEventListener() {}, removeEventListener() {} };
      vi.stubGlobal('document', hidden);
      await store.put('d', 'b', 2); // no window to wait for: it would hang here
    } finally {
      vi.useRealTimers();
      vi.unstubAllGlobals();
    }
    expect(await store.get('d', 'b')).toBe(2);
  });

  it('commits at once on flush(), when nothing more is coming to share the commit', async () => {
    const store = createIndexedDbStore(`flush-${++dbCount}`);
    await store.dags();
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const commits = () => transaction.mock.calls.filter(([, mode]) => mode === 'readwrite');
    store.flush?.(); // nothing queued: nothing to commit
    // The window's timer stands still from here on: only flush() can commit these.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const writes = [store.put('d', 'a', 1), store.put('d', 'b', 2)];
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(commits()).toHaveLength(0); // waiting for the window
      store.flush?.();
      await Promise.all(writes); // would hang if it waited for the window
      expect(commits()).toHaveLength(1); // both in one commit
    } finally {
      vi.useRealTimers();
    }
    expect(await store.get('d', 'b')).toBe(2);
  });

  it('fails only the write whose value cannot be cloned, naming DAG and item', async () => {
    const store = createIndexedDbStore(`clone-${++dbCount}`);
    const good = store.put('d', 'good', 1);
    const bad = store.put('d', 'bad', () => 'a function');
    const error = await rejection(bad);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ operation: 'put', dagId: 'd', dataId: 'bad' });
    await good;
    expect(await store.get('d', 'good')).toBe(1);
    expect(await store.has('d', 'bad')).toBe(false);
  });

  it('rejects every write of an aborted transaction with StorageError', async () => {
    const store = createIndexedDbStore(`abort-${++dbCount}`);
    await store.dags();
    const put = IDBObjectStore.prototype.put;
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (
      this: IDBObjectStore,
      value: unknown,
      key?: IDBValidKey,
    ) {
      const request = put.call(this, value, key);
      this.transaction.abort(); // what a quota failure does to a transaction
      return request;
    });
    const results = await Promise.allSettled([store.put('d', 'x', 1), store.put('d', 'y', 2)]);
    vi.restoreAllMocks();
    for (const [i, result] of results.entries()) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(StorageError);
      expect(reason).toMatchObject({ dagId: 'd', dataId: ['x', 'y'][i] });
    }
    expect(await store.keys('d')).toEqual([]);
  });

  it('refuses work after close with StorageError', async () => {
    const store = createIndexedDbStore(`closed-${++dbCount}`);
    await store.put('d', 'a', 1);
    await store.close();
    await expect(store.put('d', 'b', 2)).rejects.toBeInstanceOf(StorageError);
    await expect(store.get('d', 'a')).rejects.toBeInstanceOf(StorageError);
  });

  it('persists results across a reopen of the same database', async () => {
    const first = createIndexedDbStore(`reopen-${++dbCount}`);
    await first.put('d', 'a', { deep: [1, 2, 3] });
    await first.close();
    const second = createIndexedDbStore(`reopen-${dbCount}`);
    expect(await second.get('d', 'a')).toEqual({ deep: [1, 2, 3] });
  });

  it('is what createNode uses by default where IndexedDB exists, one database per node', async () => {
    const node = await createNode({ functions: arithmetic, id: 'idb-node' });
    expect(node.store.name).toBe('indexeddb:handout-idb-node');
    const dag = new Dag().add({ id: 'a', fn: 'identity', extraArgs: [9] });
    await node.execute(dag);
    await node.close();
    const raw = createIndexedDbStore('handout-idb-node');
    expect(await raw.get(dag.id, 'a')).toBe(9);
  });

  it('fails a run whose result cannot be stored with StorageError naming the item', async () => {
    const node = await createNode({
      functions: { makeFn: () => () => 1 },
      store: createIndexedDbStore(`run-${++dbCount}`),
    });
    const dag = new Dag().add({ id: 'f', fn: 'makeFn' });
    const error = await rejection(node.execute(dag));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ dagId: dag.id, dataId: 'f' });
  });
});

describe('IndexedDB connection', () => {
  const deleteDb = (name: string) =>
    new Promise<void>((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('delete blocked by the open store'));
    });

  it('never blocks another tab deleting its database, and recreates it on next use', async () => {
    const name = `deleted-${++dbCount}`;
    const store = createIndexedDbStore(name);
    await store.put('d', 'a', 1);
    await deleteDb(name);
    await expect(store.get('d', 'a')).rejects.toBeInstanceOf(DataNotFoundError);
    await store.put('d', 'b', 2);
    expect(await store.keys('d')).toEqual(['b']);
  });

  it('adds its object store to a database that other code created without it', async () => {
    const name = `foreign-${++dbCount}`;
    await new Promise<void>((resolve, reject) => {
      const request = indexedDB.open(name, 3);
      request.onupgradeneeded = () => request.result.createObjectStore('something-else');
      request.onsuccess = () => {
        request.result.close();
        resolve();
      };
      request.onerror = () => reject(request.error);
    });
    const store = createIndexedDbStore(name);
    await store.put('d', 'a', 'ok');
    expect(await store.get('d', 'a')).toBe('ok');
  });

  it('fails with StorageError, not a hang, when its open is blocked', async () => {
    const name = `blocked-${++dbCount}`;
    // A connection that ignores versionchange holds the database at version 1 with no results
    // store, so our open must upgrade it, and is blocked.
    const holder = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const store = createIndexedDbStore(name);
    const error = await rejection(store.put('d', 'a', 1));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain('blocked');
    holder.close();
  });
});
