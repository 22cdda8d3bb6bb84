import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { type PartsHead, partsOf, split } from '../../src/data/parts.ts';
import type { ResultStore, StagedParts } from '../../src/data/store.ts';
import { StorageError } from '../../src/index.ts';
import { rejection } from './helpers.ts';
import { big, idb, KIB, partsIn, type Subject, sizes, sqlite } from './store-subjects.ts';

// A big value fetched from a peer is written part by part as its bytes arrive
// (`ResultStore.stageParts`), and becomes visible only when its head is committed.

/** A value's head and its parts, cut as the stores cut them. */
function cut(value: unknown) {
  const whole = split(value, sizes.partBytes);
  if (whole === undefined) throw new Error('not a value in parts');
  return { head: whole.head, parts: [...partsOf(whole)] };
}

/** The store's staging of a value (every store here has one). */
function stage(store: ResultStore, dataId: string, head: PartsHead): StagedParts {
  const staged = store.stageParts?.('d', dataId, head);
  if (staged === undefined) throw new Error(`${store.name} cannot stage`);
  return staged;
}

type Big = ReturnType<typeof big>;
const samplesOf = async (store: ResultStore, dataId: string) =>
  ((await store.get('d', dataId)) as Big).samples;

describe.each([
  ['indexeddb', idb],
  ['sqlite', sqlite],
])('%s store: values staged as they arrive', (_, make: () => Subject) => {
  it('writes each part as it comes, and shows the value only once committed', async () => {
    const { store, parts, markers } = make();
    const value = big(40);
    const { head, parts: pieces } = cut(value);
    const staged = stage(store, 'big', head);
    for (const [i, piece] of pieces.entries()) {
      await staged.part(i, new Uint8Array(piece));
      // Written, yet not there for anyone.
      expect(await parts()).toBe(i + 1);
      expect(await store.has('d', 'big')).toBe(false);
      expect(await store.find?.('d', 'big')).toBeUndefined();
      expect(await store.keys('d')).toEqual([]);
    }
    expect(await markers()).toBe(1);
    await staged.commit();
    expect(await markers()).toBe(0);
    expect(await samplesOf(store, 'big')).toEqual(value.samples);
    expect(await store.keys('d')).toEqual(['big']);
    expect(await store.dags()).toEqual(['d']);
    expect(await parts()).toBe(partsIn(40));
    // Served part by part from where it was staged.
    const open = await store.openParts?.('d', 'big');
    expect(new Uint8Array((await open?.part(1)) as ArrayBuffer)).toEqual(
      new Uint8Array(pieces[1] as ArrayBuffer),
    );
    await store.close();
  });

  it('replaces the value under the key only at commit, and leaves none of its parts', async () => {
    const { store, parts } = make();
    await store.put('d', 'x', big(33));
    const next = big(48);
    next.samples[0] = 7;
    const { head, parts: pieces } = cut(next);
    const staged = stage(store, 'x', head);
    for (const [i, piece] of pieces.entries()) await staged.part(i, piece);
    // Until the commit, readers see the old value whole.
    expect((await samplesOf(store, 'x')).length).toBe((33 * KIB) / 8);
    await staged.commit();
    expect((await samplesOf(store, 'x'))[0]).toBe(7);
    expect(await parts()).toBe(partsIn(48));
    // Later writes replace it as any other value, its parts included.
    await store.put('d', 'x', 'small now');
    expect(await parts()).toBe(0);
    await store.close();
  });

  it('removes every part on abort, and fails a commit with a part missing', async () => {
    const { store, parts, markers } = make();
    const { head, parts: pieces } = cut(big(40));
    const aborted = stage(store, 'a', head);
    await aborted.part(0, pieces[0] as ArrayBuffer);
    await aborted.part(1, pieces[1] as ArrayBuffer);
    await aborted.abort();
    expect(await parts()).toBe(0);
    const short = stage(store, 'b', head);
    await short.part(0, pieces[0] as ArrayBuffer);
    const error = await rejection(short.commit());
    expect(error).toBeInstanceOf(StorageError);
    expect(String(error)).toMatch(/1 of its 5 parts came/);
    expect(await parts()).toBe(0);
    expect(await markers()).toBe(0);
    expect(await store.has('d', 'b')).toBe(false);
    await store.close();
  });

  it('commits nothing when the DAG was cleared while its parts came', async () => {
    const { store, parts } = make();
    const { head, parts: pieces } = cut(big(40));
    const staged = stage(store, 'big', head);
    await staged.part(0, pieces[0] as ArrayBuffer);
    await store.clearDag('d');
    for (let i = 1; i < pieces.length; i++) await staged.part(i, pieces[i] as ArrayBuffer);
    const error = await rejection(staged.commit());
    expect(error).toBeInstanceOf(StorageError);
    expect(String(error)).toMatch(/removed as they came/);
    expect(await store.has('d', 'big')).toBe(false);
    expect(await parts()).toBe(0);
    await store.close();
  });

  it('sweeps the parts of a staging that never ended when the store opens next', async () => {
    const subject = make();
    const { head, parts: pieces } = cut(big(40));
    await subject.store.put('d', 'kept', big(33));
    const staged = stage(subject.store, 'big', head);
    await staged.part(0, pieces[0] as ArrayBuffer);
    await staged.part(1, pieces[1] as ArrayBuffer);
    await subject.store.close(); // as a page closing: no commit, no abort
    expect(await subject.parts()).toBe(partsIn(33) + 2);
    const next = subject.reopen();
    expect(await next.store.keys('d')).toEqual(['kept']); // a read waits for the sweep
    expect(await next.parts()).toBe(partsIn(33));
    expect(await next.markers()).toBe(0);
    expect((await samplesOf(next.store, 'kept')).at(-1)).toBe(-1);
    await next.store.close();
  });
});
