import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { RESULTS_STORE } from '../../src/data/idb-store.ts';
import { createIndexedDbStore, DataNotFoundError, StorageError } from '../../src/index.ts';
import { rejection } from './helpers.ts';

let count = 0;

/** Every key of the database, read beside the store. */
function keysOf(name: string): Promise<IDBValidKey[]> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = db.transaction(RESULTS_STORE).objectStore(RESULTS_STORE).getAllKeys();
      request.onsuccess = () => {
        db.close();
        resolve(request.result);
      };
      request.onerror = () => reject(request.error);
    };
  });
}

const isBundleKey = (k: IDBValidKey) => Array.isArray(k) && Array.isArray(k[1]);
/** A value too large for a bundle (16 KiB and more), too small for parts. */
const medium = (fill: number) => new Float64Array(4096).fill(fill);

function fresh() {
  const name = `bundles-${++count}`;
  return { name, store: createIndexedDbStore(name) };
}

describe('IndexedDB store: small values in bundles', () => {
  it('keeps a burst of small values of a DAG in a few records, each read back', async () => {
    const { name, store } = fresh();
    const ids = Array.from({ length: 600 }, (_, i) => `t${i}`);
    await Promise.all(ids.map((id, i) => store.put('d', id, { i })));
    const keys = await keysOf(name);
    expect(keys.length).toBeLessThanOrEqual(4); // 600 values, at most 256 per bundle
    expect(keys.every(isBundleKey)).toBe(true);
    expect(await store.get('d', 't0')).toEqual({ i: 0 });
    expect(await store.get('d', 't599')).toEqual({ i: 599 });
    expect(await store.has('d', 't17')).toBe(true);
    expect(await store.has('d', 'nope')).toBe(false);
    expect(await store.find?.('d', 'nope')).toBeUndefined();
    expect(await rejection(store.get('d', 'nope'))).toBeInstanceOf(DataNotFoundError);
    expect((await store.keys('d')).sort()).toEqual([...ids].sort());
    expect(await store.dags()).toEqual(['d']);
    await store.close();
  });

  it('tells a stored undefined from a missing one inside a bundle', async () => {
    const { store } = fresh();
    await Promise.all([store.put('d', 'u', undefined), store.put('d', 'n', null)]);
    expect(await store.find?.('d', 'u')).toEqual({ value: undefined });
    expect(await store.find?.('d', 'n')).toEqual({ value: null });
    await store.close();
  });

  it('reads bundled values after a reopen, and the latest write of an id wins across reopens', async () => {
    const { name, store } = fresh();
    await Promise.all([store.put('d', 'x', 'small'), store.put('d', 'y', 1)]);
    await store.close();
    const second = createIndexedDbStore(name);
    expect(await second.get('d', 'x')).toBe('small');
    await second.put('d', 'x', medium(7)); // a record of its own now
    await second.put('d', 'y', 2); // a later bundle
    await second.close();
    const third = createIndexedDbStore(name);
    expect(((await third.get('d', 'x')) as Float64Array)[0]).toBe(7);
    expect(await third.get('d', 'y')).toBe(2);
    await third.put('d', 'x', 'small again');
    expect(await third.get('d', 'x')).toBe('small again');
    await third.delete('d', 'y');
    await third.close();
    const fourth = createIndexedDbStore(name);
    expect(await fourth.get('d', 'x')).toBe('small again');
    expect(await fourth.has('d', 'y')).toBe(false);
    expect((await fourth.keys('d')).sort()).toEqual(['x']);
    await fourth.delete('d', 'x');
    expect(await fourth.dags()).toEqual([]); // its bundles are left, holding nothing
    await fourth.close();
    const fifth = createIndexedDbStore(name);
    expect(await fifth.dags()).toEqual([]);
    await fifth.close();
  });

  it('keeps writes of one id in one commit in their order, deletes included', async () => {
    const { store } = fresh();
    const writes = [
      store.put('d', 'a', 1),
      store.delete('d', 'a'),
      store.put('d', 'b', 1),
      store.put('d', 'b', medium(3)),
      store.put('d', 'c', medium(4)),
      store.put('d', 'c', 'last'),
    ];
    await Promise.all(writes);
    expect(await store.has('d', 'a')).toBe(false);
    expect(((await store.get('d', 'b')) as Float64Array)[0]).toBe(3);
    expect(await store.get('d', 'c')).toBe('last');
    const cleared = [
      store.put('d', 'e', 1),
      store.clearDag('d'),
      store.put('d', 'f', 'after the clear'),
    ];
    await Promise.all(cleared);
    expect(await store.has('d', 'e')).toBe(false);
    expect(await store.has('d', 'c')).toBe(false);
    expect(await store.keys('d')).toEqual(['f']);
    await store.close();
  });

  it('clears every bundle of a DAG and leaves other DAGs alone', async () => {
    const { name, store } = fresh();
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => store.put('d1', `t${i}`, i)),
      ...Array.from({ length: 10 }, (_, i) => store.put('d2', `t${i}`, -i)),
    ]);
    await store.clearDag('d1');
    const keys = await keysOf(name);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => (k as string[])[0] === 'd2')).toBe(true);
    expect(await store.keys('d1')).toEqual([]);
    expect(await store.get('d2', 't9')).toBe(-9);
    expect(await store.dags()).toEqual(['d2']);
    await store.close();
  });

  it('fails only the value that cannot be cloned; the rest of its bundle is kept', async () => {
    const { store } = fresh();
    const writes = [store.put('d', 'a', 1), store.put('d', 'bad', () => 1), store.put('d', 'b', 2)];
    const [a, bad, b] = await Promise.allSettled(writes);
    expect(a?.status).toBe('fulfilled');
    expect(b?.status).toBe('fulfilled');
    expect(bad?.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/bad/);
    expect(await store.get('d', 'b')).toBe(2);
    expect(await store.has('d', 'bad')).toBe(false);
    // A value with a record of its own that fails leaves the bundled one before it in place.
    const big = { samples: medium(1), fn: () => 1 };
    expect(await rejection(store.put('d', 'b', big))).toBeInstanceOf(StorageError);
    expect(await store.get('d', 'b')).toBe(2);
    await store.close();
  });

  it('reads a DAG back once after a reopen, and sees the writes after it', async () => {
    const { name, store } = fresh();
    await store.put('d', 'old', 1);
    await store.close();
    const again = createIndexedDbStore(name);
    const reading = again.get('d', 'old'); // reads the DAG's bundles back
    const writing = again.put('d', 'new', 2);
    expect(await reading).toBe(1);
    await writing;
    expect(await again.get('d', 'new')).toBe(2);
    expect((await again.keys('d')).sort()).toEqual(['new', 'old']);
    await again.close();
  });

  it("keeps the store's own DAGs (epochs, time-to-live) one record per item", async () => {
    const { name, store } = fresh();
    await Promise.all([
      store.put('\u0000handout:runs', 'd', { epoch: 2 }),
      store.put('\u0000handout:runs', 'e', { epoch: 3 }),
    ]);
    expect((await keysOf(name)).some(isBundleKey)).toBe(false);
    expect(await store.get('\u0000handout:runs', 'e')).toEqual({ epoch: 3 });
    await store.close();
  });
});
