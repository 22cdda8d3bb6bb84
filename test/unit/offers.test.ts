import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { type StoredParts, split } from '../../src/data/parts.ts';
import type { ResultStore } from '../../src/data/store.ts';
import { ValueCache } from '../../src/data/value-cache.ts';
import { DataNotFoundError, RemoteError } from '../../src/errors.ts';
import { MemoryHub } from '../../src/net/memory-transport.ts';
import type { Mesh } from '../../src/net/mesh.ts';
import { Rpc } from '../../src/net/rpc.ts';
import { call } from '../../src/runtime/base/calls.ts';
import { Epochs } from '../../src/runtime/base/epochs.ts';
import { DataService } from '../../src/runtime/serve/data-service.ts';
import { OFFER } from '../../src/runtime/serve/offers.ts';
import { rejection } from './helpers.ts';
import { big, idb, partsIn, sizes, sqlite } from './store-subjects.ts';

// A big value crosses between peers as an offer of parts (`serve/offers.ts`): the consumer asks
// for each part in turn and writes it to its store as it comes.

const meshes: Mesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.close()));
});

/** A data service on a peer, over its store, serving what its cache and store hold. */
function service(mesh: Mesh, store: ResultStore, cache = new ValueCache()) {
  const data = new DataService({
    id: mesh.id,
    rpc: new Rpc(mesh, 5000),
    cache,
    store,
    epochs: new Epochs(store, async () => undefined),
    functions: {},
    waitFor: () => new Promise(() => undefined),
    knows: () => true,
    peers: () => [],
    sizes,
  });
  data.serve();
  return data;
}

/** Consumer `a` (an IndexedDB store cut small) and producer `b`. */
async function pair() {
  const hub = new MemoryHub();
  const [a, b] = [await hub.join({ id: 'a' }), await hub.join({ id: 'b' })];
  meshes.push(a, b);
  return { a, b, consumer: idb() };
}

const request = { dagId: 'd', epoch: 0, dataId: 'big' };
type Big = ReturnType<typeof big>;

describe('a big value fetched in parts', () => {
  it.each([
    ['IndexedDB', idb],
    ['SQLite', sqlite],
  ])(
    'is written to a %s store part by part as the parts arrive, kept at commit',
    async (_, make) => {
      const { a, b } = await pair();
      const consumer = make();
      const producer = idb();
      const value = big(40);
      await producer.store.put('d', 'big', value);
      // The producer's third part waits until the test has looked at the consumer's store.
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let asked = () => {};
      const third = new Promise<void>((resolve) => {
        asked = resolve;
      });
      const open = producer.store.openParts?.bind(producer.store);
      producer.store.openParts = async (dagId, dataId) => {
        const parts = (await open?.(dagId, dataId)) as StoredParts;
        return {
          head: parts.head,
          part: async (i) => {
            if (i === 2) {
              asked();
              await gate;
            }
            return parts.part(i);
          },
        };
      };
      service(b, producer.store);
      const taking = service(a, consumer.store).take('b', request, undefined, true);
      await third;
      // Two parts came and are written; the value is not there for anyone yet.
      await expect.poll(() => consumer.parts()).toBe(2);
      expect(await consumer.markers()).toBe(1);
      expect(await consumer.store.has('d', 'big')).toBe(false);
      release();
      const { value: taken, staged } = await taking;
      expect((taken as Big).samples).toEqual(value.samples);
      expect((taken as Big).meta.get('unit')).toBe('mV');
      expect(await consumer.parts()).toBe(partsIn(40));
      await staged?.commit();
      expect(((await consumer.store.get('d', 'big')) as Big).samples).toEqual(value.samples);
      expect(await consumer.markers()).toBe(0);
    },
  );

  it('comes from memory too, and whole to an asker that does not take offers', async () => {
    const { a, b, consumer } = await pair();
    const cache = new ValueCache();
    const value = big(40);
    cache.set('d', 'big', value, 40 << 10);
    service(b, consumer.store, cache);
    const data = service(a, idb().store);
    const taken = await data.take('b', request, undefined, false);
    expect((taken.value as Big).samples).toEqual(value.samples);
    expect(taken.staged).toBeUndefined(); // not asked to stage: nothing written
    // An asker of an earlier version gets the value itself.
    const whole = await call(data.ports.rpc, 'b', 'data.get', {
      ...request,
      serialize: undefined,
      consumerTaskId: undefined,
      wait: false,
      parts: false,
    });
    expect((whole as Big).samples).toEqual(value.samples);
  });

  it('fails as a lost input, and leaves nothing staged, when a part is the wrong size', async () => {
    const { a, b, consumer } = await pair();
    const rogue = new Rpc(b, 5000);
    const head = split(big(40), sizes.partBytes)?.head;
    rogue.handle('data.get', () => ({ [OFFER]: '1', head }));
    rogue.handle('data.part', () => new Uint8Array(3));
    const error = await rejection(service(a, consumer.store).take('b', request, undefined, true));
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(String(error)).toMatch(/part 0 from b is 3 bytes, not 8192/);
    await expect.poll(() => consumer.markers()).toBe(0);
    expect(await consumer.parts()).toBe(0);
    // An offer of absurd shape is refused before anything is allocated or asked.
    rogue.handle('data.get', () => ({ [OFFER]: '2', head: { ...head, partBytes: 1 } }));
    const absurd = await rejection(service(a, consumer.store).take('b', request));
    expect(absurd).toBeInstanceOf(DataNotFoundError);
    expect(String(absurd)).toMatch(/b offered it malformed/);
  });

  it('refuses a part of an offer it did not make, or made to another peer', async () => {
    const { a, b } = await pair();
    const cache = new ValueCache();
    cache.set('d', 'big', big(40), 40 << 10);
    service(b, idb().store, cache);
    const rpc = new Rpc(a, 5000);
    const offer = (await call(rpc, 'b', 'data.get', {
      ...request,
      serialize: undefined,
      consumerTaskId: undefined,
      wait: false,
      parts: true,
    })) as Record<string, unknown>;
    const token = offer[OFFER] as string;
    const part = await call(rpc, 'b', 'data.part', { dagId: 'd', dataId: 'big', token, index: 0 });
    expect(part.byteLength).toBe(sizes.partBytes);
    for (const body of [
      { dagId: 'd', dataId: 'big', token: 'nope', index: 0 },
      { dagId: 'd', dataId: 'other', token, index: 1 },
      { dagId: 'd', dataId: 'big', token, index: 99 },
    ]) {
      const error = await rejection(call(rpc, 'b', 'data.part', body));
      expect(error).toBeInstanceOf(RemoteError);
      expect(error).toMatchObject({ remoteCode: 'data_not_found' });
    }
  });
});
