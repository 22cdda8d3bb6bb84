import { Assembly, isHead, partCount, partsOf, type Split } from './parts.ts';

/**
 * IndexedDB's side of values in parts (see `parts.ts`): the head under `[dagId, dataId]`, part
 * `i` under `[dagId, dataId, i]`. Part keys sort right after their head and before the next
 * item, inside the DAG's key range, so clearing a DAG removes them too.
 */

/** The keys of one item's parts. */
export function partRange(dagId: string, dataId: string): IDBKeyRange {
  return IDBKeyRange.bound([dagId, dataId, 0], [dagId, dataId, []]);
}

/** Whether a key of the object store is an item's own key (not one of its parts). */
export function isItemKey(key: IDBValidKey): key is [string, string] {
  return Array.isArray(key) && key.length === 2;
}

/**
 * Writes a split value into the transaction (its own): the old parts go, the new ones come, the
 * head last. Anything that throws aborts the transaction, so no part of it is ever kept.
 */
export function putParts(os: IDBObjectStore, dagId: string, dataId: string, split: Split): void {
  try {
    os.delete(partRange(dagId, dataId));
    let i = 0;
    // put() clones each part at once, so one part's copy at a time is alive here.
    for (const part of partsOf(split)) os.put(part, [dagId, dataId, i++]);
    os.put(split.head, [dagId, dataId]);
  } catch (error) {
    os.transaction.abort();
    throw error;
  }
}

/**
 * The item under `[dagId, dataId]`, its parts gathered in the same transaction; undefined when
 * there is none (a cursor, not get(): it tells a stored `undefined` from a missing key).
 */
export async function readItem(
  os: IDBObjectStore,
  dagId: string,
  dataId: string,
): Promise<{ value: unknown } | undefined> {
  const cursor = await new Promise<IDBCursorWithValue | null>((resolve, reject) => {
    const request = os.openCursor([dagId, dataId]);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  if (cursor === null) return undefined;
  const record: unknown = cursor.value;
  if (!isHead(record)) return { value: record };
  const expected = partCount(record);
  // RangeError when the page cannot hold the value: the caller names it.
  const assembly = new Assembly(record);
  let parts = 0;
  await new Promise<void>((resolve, reject) => {
    const request = os.openCursor(partRange(dagId, dataId));
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const part = request.result;
      if (part === null) return resolve();
      if (!assembly.add(part.value as ArrayBuffer)) return reject(new Error('a part does not fit'));
      parts++;
      part.continue();
    };
  });
  const whole = assembly.value();
  if (whole === undefined || parts !== expected)
    throw new Error(`${parts} of its ${expected} parts are stored`);
  return whole;
}
