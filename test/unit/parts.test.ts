import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Assembly } from '../../src/data/assembly.ts';
import { PART_BYTES, partsOf, SPLIT_BYTES, split } from '../../src/data/parts.ts';
import { storedSize } from '../../src/data/size.ts';
import { spaceError } from '../../src/data/space.ts';
import { StorageError } from '../../src/index.ts';
import { rejection } from './helpers.ts';
import { big, idb, KIB, partsIn, sqlite } from './store-subjects.ts';

afterEach(() => vi.restoreAllMocks());

describe.each([
  ['indexeddb', idb],
  ['sqlite', sqlite],
])('%s store: values in parts', (_, make) => {
  it('keeps a value above the threshold as a head and parts, and reads it back whole', async () => {
    const { store, parts } = make();
    const value = big(40);
    await store.put('d', 'big', value);
    await store.put('d', 'small', 1);
    expect(await parts()).toBe(partsIn(40));
    const back = (await store.get('d', 'big')) as ReturnType<typeof big>;
    expect(back.name).toBe('scan');
    expect(back.meta.get('unit')).toBe('mV');
    expect(back.samples).toBeInstanceOf(Float64Array);
    expect(back.samples).toEqual(value.samples);
    expect(await store.has('d', 'big')).toBe(true);
    const found = (await store.find?.('d', 'big')) as { value: ReturnType<typeof big> };
    expect(found.value.samples).toEqual(value.samples);
    expect((await store.keys('d')).sort()).toEqual(['big', 'small']); // each value once
    expect(await store.dags()).toEqual(['d']);
    await store.close();
  });

  it('deletes and clears every part, and leaves other DAGs alone', async () => {
    const { store, parts } = make();
    await store.put('d1', 'a', big(33));
    await store.put('d1', 'b', big(33));
    await store.put('d2', 'a', big(33));
    expect(await parts()).toBe(3 * partsIn(33));
    await store.delete('d1', 'a');
    expect(await parts()).toBe(2 * partsIn(33));
    await store.clearDag('d1');
    expect(await parts()).toBe(partsIn(33));
    expect(await store.keys('d1')).toEqual([]);
    expect(((await store.get('d2', 'a')) as ReturnType<typeof big>).samples.at(-1)).toBe(-1);
    await store.close();
  });

  it('keeps the last of several writes to one item, big or small, in order', async () => {
    const { store, parts } = make();
    const writes = [
      store.put('d', 'x', big(48)),
      store.put('d', 'x', 'small now'),
      store.put('d', 'y', 'small first'),
      store.put('d', 'y', big(33)),
    ];
    await Promise.all(writes);
    expect(await store.get('d', 'x')).toBe('small now');
    expect(((await store.get('d', 'y')) as ReturnType<typeof big>).samples.length).toBe(
      (33 * KIB) / 8,
    );
    // The big value that was replaced left no parts behind.
    expect(await parts()).toBe(partsIn(33));
    await store.put('d', 'y', 'small again'); // small, big, small: the parts go too
    expect(await parts()).toBe(0);
    await store.put('d', 'y', big(33));
    await store.put('d', 'y', big(33)); // rewritten: the same number of parts, not twice as many
    expect(await parts()).toBe(partsIn(33));
    await store.close();
  });

  it('fails a read with StorageError, never a wrong value, when a part is missing', async () => {
    const { store, losePart } = make();
    await store.put('d', 'big', big(33));
    await losePart('d', 'big', 2);
    const error = await rejection(store.get('d', 'big'));
    expect(error).toBeInstanceOf(StorageError);
    expect(String(error)).toMatch(/parts are stored/);
    await store.close();
  });
});

describe('parts', () => {
  it('splits out large binaries only, keeping views on one buffer on one buffer', () => {
    const buffer = new ArrayBuffer(SPLIT_BYTES);
    const whole = new Uint8Array(buffer);
    whole[5] = 7;
    const value = {
      a: new Float32Array(buffer, 4, 8),
      b: whole,
      view: new DataView(buffer, 1, 16),
      small: new Uint8Array(1024),
      list: [1, 'two', new Map([[new Uint8Array(buffer), 'key is a view']])],
    };
    const parts = split(value);
    expect(parts?.binaries).toEqual([buffer]); // one buffer, referenced four times
    expect(parts?.bytes).toBe(SPLIT_BYTES);
    const copy = structuredClone(parts?.head); // what a store gives back
    if (parts === undefined || copy === undefined) throw new Error('not split');
    expect(storedSize(copy)).toBeLessThan(4096); // the big buffer is not in the head
    const assembly = new Assembly(copy);
    for (const part of partsOf(parts)) expect(assembly.add(part)).toBe(true);
    const back = assembly.value()?.value as typeof value;
    expect(back.b[5]).toBe(7);
    expect(back.a.buffer).toBe(back.b.buffer); // still one buffer
    expect(back.view.byteOffset).toBe(1);
    expect(back.view.byteLength).toBe(16);
    expect(back.small).toEqual(new Uint8Array(1024));
    expect([...(back.list[2] as Map<Uint8Array, string>).keys()][0]?.buffer).toBe(back.b.buffer);
    expect(value.b).toBe(whole); // the caller's value is untouched
  });

  it('keeps a value that contains itself, or has no large binary, as it is', () => {
    const cyclic: Record<string, unknown> = { data: new Uint8Array(SPLIT_BYTES) };
    cyclic.self = cyclic;
    expect(split(cyclic)).toBeUndefined();
    expect(split({ numbers: Array.from({ length: 1000 }, (_, i) => i) })).toBeUndefined();
  });

  it('says a value is incomplete until every byte came, and refuses a part too many', () => {
    const parts = split(new Uint8Array(PART_BYTES + 10));
    if (parts === undefined) throw new Error('not split');
    const assembly = new Assembly(parts.head);
    const [first, second] = [...partsOf(parts)];
    assembly.add(first as ArrayBuffer);
    expect(assembly.value()).toBeUndefined();
    assembly.add(second as ArrayBuffer);
    expect(assembly.value()).toBeDefined();
    expect(assembly.add(new ArrayBuffer(1))).toBe(false);
  });
});

describe('quota errors', () => {
  it('say how much the writes needed and what the origin uses of its quota', async () => {
    vi.stubGlobal('navigator', {
      storage: { estimate: async () => ({ usage: 3 << 20, quota: 4 << 20 }) },
    });
    try {
      const cause = new DOMException('quota', 'QuotaExceededError');
      const error = await spaceError(cause, [{ kind: 'put', value: new Uint8Array(5 << 20) }]);
      expect(error).toMatchObject({ needed: 5 << 20, usage: 3 << 20, quota: 4 << 20, cause });
      const wrapped = new StorageError('put', 'd', 'x', error);
      expect(wrapped.message).toMatch(
        /needed about 5\.0 MiB; the origin uses 3\.0 MiB of its 4\.0 MiB quota/,
      );
      expect(await spaceError(new Error('other'), [])).toBeUndefined();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
