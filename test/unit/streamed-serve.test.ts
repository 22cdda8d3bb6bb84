import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIndexedDbStore, type ResultStore } from '../../src/index.ts';
import { arithmetic } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

// A value kept in parts is served part by part from the store: the serving node never reads it
// whole. Small part sizes stand for 32 MiB and 8 MiB.
const sizes = { splitBytes: 32 * 1024, partBytes: 8 * 1024 };
let current: SwarmOf | undefined;
let count = 0;
afterEach(async () => {
  await current?.close();
  current = undefined;
  vi.restoreAllMocks();
});

const stores = new Map<string, ResultStore>();
async function room() {
  const run = ++count;
  current = await swarm(['a', 'b', 'c'], arithmetic, {}, `streamed-${run}`, (id) => {
    const store = createIndexedDbStore(`streamed-${run}-${id}`, sizes);
    stores.set(id, store);
    return store;
  });
  return current;
}

describe('a value kept in parts', () => {
  it('is served to result() on another node part by part, arriving whole and typed', async () => {
    const s = await room();
    const samples = new Float32Array(100_000).map((_, i) => i / 2);
    const value = { name: 'scan', samples, bytes: new Uint8Array(20_000).fill(9) };
    await stores.get('a')?.put('d', 'scan', value);
    const read = vi.spyOn(stores.get('a') as ResultStore, 'get');
    const back = (await s.byId('c').result('d', 'scan')) as typeof value;
    expect(back.name).toBe('scan');
    expect(back.samples).toBeInstanceOf(Float32Array);
    expect(back.samples).toEqual(samples);
    expect(back.bytes).toEqual(value.bytes);
    // Never read whole on the serving node (only its own bookkeeping is read).
    expect(read.mock.calls.filter(([, item]) => item === 'scan')).toEqual([]);
  });

  it('is read whole and sent when a binary is a view on part of a buffer', async () => {
    const s = await room();
    const buffer = new ArrayBuffer(64 * 1024);
    new Uint8Array(buffer).fill(3);
    const value = { half: new Uint8Array(buffer, 1024, 32 * 1024) };
    await stores.get('a')?.put('d', 'half', value);
    const back = (await s.byId('c').result('d', 'half')) as typeof value;
    expect(back.half.length).toBe(32 * 1024);
    expect(back.half.every((x) => x === 3)).toBe(true);
  });
});
