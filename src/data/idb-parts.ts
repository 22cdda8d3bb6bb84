import { Assembly } from './assembly.ts';
import { isHead, type PartsHead, partCount, partsOf, type Split } from './parts.ts';

/**
 * IndexedDB's side of values in parts (see `parts.ts`): the head under `[dagId, dataId]`, part
 * `i` under `[dagId, dataId, i]`, or `[dagId, dataId, stamp, i]` for one written as it arrived
 * (`idb-staging.ts`). Part keys sort right after their head and before the next item, inside
 * the DAG's key range, so clearing a DAG removes them too.
 */

/** The keys of every part under one item (its value's, and any being staged). */
export function partRange(dagId: string, dataId: string): IDBKeyRange {
  return IDBKeyRange.bound([dagId, dataId, 0], [dagId, dataId, []]);
}

/** The keys of the parts one head refers to (numbers sort before the strings of stamps). */
export function ownParts(dagId: string, dataId: string, head: PartsHead): IDBKeyRange {
  const { stamp } = head;
  return stamp === undefined
    ? IDBKeyRange.bound([dagId, dataId, 0], [dagId, dataId, ''], false, true)
    : IDBKeyRange.bound([dagId, dataId, stamp, 0], [dagId, dataId, stamp, []]);
}

/** The key of part `i` of the value `head` heads. */
export function partKey(dagId: string, dataId: string, head: PartsHead, i: number): IDBValidKey {
  return head.stamp === undefined ? [dagId, dataId, i] : [dagId, dataId, head.stamp, i];
}

/** Whether a key of the object store is an item's own key (not a part, not a bundle). */
export function isItemKey(key: IDBValidKey): key is [string, string] {
  return Array.isArray(key) && key.length === 2 && typeof key[1] === 'string';
}

/**
 * Writes a split value into the transaction (its own): the old parts go, the new ones come one
 * after another, the head last. Each part is put when the one before is written, so the page
 * clones 8 MiB at a time and stays responsive (heartbeats go on) while hundreds of MiB go in;
 * the transaction stays open meanwhile. Anything that fails aborts it: no part is ever kept.
 */
export function putParts(os: IDBObjectStore, dagId: string, dataId: string, split: Split): void {
  const parts = partsOf(split);
  let i = 0;
  const next = (first = false): void => {
    try {
      const part = parts.next();
      if (part.done) {
        os.put(split.head, [dagId, dataId]);
        return;
      }
      os.put(part.value, [dagId, dataId, i++]).onsuccess = () => next();
    } catch (error) {
      os.transaction.abort(); // e.g. a part that cannot be allocated: the write fails whole
      if (first) throw error; // later, the aborted transaction says it
    }
  };
  os.delete(partRange(dagId, dataId));
  next(true);
}

/** The head of the item under `[dagId, dataId]` if it is kept in parts. */
export async function readHead(
  os: IDBObjectStore,
  dagId: string,
  dataId: string,
): Promise<PartsHead | undefined> {
  const record = await request(os.get([dagId, dataId]));
  return isHead(record) ? record : undefined;
}

/** Part `i` of an item; throws when it is not there (the value was removed meanwhile). */
export async function readPart(
  os: IDBObjectStore,
  dagId: string,
  dataId: string,
  head: PartsHead,
  i: number,
): Promise<ArrayBuffer> {
  const part = await request(os.get(partKey(dagId, dataId, head, i)));
  if (!(part instanceof ArrayBuffer)) throw new Error(`part ${i} is not stored`);
  return part;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
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
  const cursor = await request(os.openCursor([dagId, dataId]));
  if (cursor === null) return undefined;
  const record: unknown = cursor.value;
  if (!isHead(record)) return { value: record };
  const expected = partCount(record);
  // RangeError when the page cannot hold the value: the caller names it.
  const assembly = new Assembly(record);
  let parts = 0;
  await new Promise<void>((resolve, reject) => {
    const request = os.openCursor(ownParts(dagId, dataId, record));
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
