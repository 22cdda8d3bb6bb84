/**
 * Small values of one DAG written in one commit share one IndexedDB record, a bundle: Chromium
 * spends 100-200 µs of its browser process on every `put`, however small (measured: 5,000 tasks
 * of a DAG cost more there than in the tabs), and a bundle is one `put` for up to 256 values.
 *
 * A bundle lives under `[dagId, [stamp, n]]` (inside the DAG's key range, after its items):
 * `{ ids, values, drops }`. Replaying a DAG's bundles in key order tells where each id lives:
 * `ids[i]` is in this bundle at `i`; a drop says the id's latest write is not in a bundle (a
 * value of 16 KiB or more, under its own key or in parts, or a delete). A value in a bundle wins
 * over a record under its own key, and every write of such a record (or delete) drops the id
 * from bundles in the same transaction. So the latest write always wins, across reopens too.
 */

/** A value this large or larger gets a record of its own. */
export const BUNDLE_ITEM_BYTES = 16 * 1024;
/** A bundle holds at most this many bytes (roughly); the rest goes in the next. */
export const BUNDLE_BYTES = 256 * 1024;

/** Where a bundled id lives: its bundle's key parts and its index there. */
type Where = readonly [stamp: number, n: number, i: number];

export interface BundleRecord {
  readonly ids: string[];
  readonly values: unknown[];
  readonly drops: string[];
}

export function bundleKey(dagId: string, stamp: number, n: number): IDBValidKey {
  return [dagId, [stamp, n]];
}

/** Every bundle of the DAG: arrays sort after strings, so they follow its items. */
function bundleRange(dagId: string): IDBKeyRange {
  return IDBKeyRange.bound([dagId, []], [`${dagId}\u0000`], false, true);
}

/** Every key of the DAG: items, their parts and its bundles. */
export function wholeDagRange(dagId: string): IDBKeyRange {
  return IDBKeyRange.bound([dagId], [`${dagId}\u0000`], false, true);
}

/** The store's own DAGs (epochs, time-to-live) are written rarely, rewritten often: no bundles. */
export function bundles(dagId: string): boolean {
  return !dagId.startsWith('\u0000');
}

function isBundle(record: unknown): record is BundleRecord {
  const r = record as BundleRecord | null;
  return typeof r === 'object' && r !== null && Array.isArray(r.ids) && Array.isArray(r.values);
}

/** Entries and DAGs kept in memory at most; the least recently used DAGs are read again. */
const MAX_ENTRIES = 200_000;
const MAX_DAGS = 1000;

/**
 * Where each bundled id of a DAG lives, read back from the store once per DAG when first
 * needed, and kept true by the writes after. A cache of what is on disk: a DAG dropped from it
 * (memory, a failed commit) is read again.
 */
export class BundleIndex {
  /** DAGs read back: id -> where (an id not here is not in a bundle). */
  readonly #dags = new Map<string, Map<string, Where>>();
  /** DAGs being read back, and the writes applied to each meanwhile. */
  readonly #loading = new Map<string, { loads: number; writes: number }>();
  #entries = 0;
  readonly stamp = Date.now();
  #next = 0;

  /** A fresh bundle key for a commit. */
  nextBundle(): number {
    return this.#next++;
  }

  /** Where `dataId` lives in the DAG's bundles, reading them back first if need be. */
  async find(os: IDBObjectStore, dagId: string, dataId: string): Promise<Where | undefined> {
    return (await this.load(os, dagId)).get(dataId);
  }

  /** The DAG's bundled ids and where each lives. */
  async load(os: IDBObjectStore, dagId: string): Promise<ReadonlyMap<string, Where>> {
    const known = this.#dags.get(dagId);
    if (known !== undefined) {
      this.#dags.delete(dagId); // most recently used last
      this.#dags.set(dagId, known);
      return known;
    }
    const loading = this.#loading.get(dagId) ?? { loads: 0, writes: 0 };
    this.#loading.set(dagId, loading);
    loading.loads++;
    const writes = loading.writes;
    let map: Map<string, Where>;
    try {
      map = await replay(os, dagId);
    } finally {
      if (--loading.loads === 0) this.#loading.delete(dagId);
    }
    // A write applied meanwhile is not in what this transaction read: use it, do not keep it.
    if (loading.writes !== writes || this.#dags.has(dagId)) return map;
    this.#dags.set(dagId, map);
    this.#entries += map.size;
    this.#trim();
    return map;
  }

  /** Whether the DAG's bundles may hold the id: false only when known not to. */
  mayHold(dagId: string, dataId: string): boolean {
    return this.#dags.get(dagId)?.has(dataId) ?? true;
  }

  /** A commit put `record` under `[dagId, [stamp, n]]`. */
  wrote(dagId: string, n: number, record: BundleRecord): void {
    this.#wrote(dagId);
    const map = this.#dags.get(dagId);
    if (map === undefined) return; // read back from the store when needed
    const before = map.size;
    apply(map, this.stamp, n, record);
    this.#entries += map.size - before;
  }

  /** The DAG is gone from the store (cleared), or what is known of it may be wrong (a failed commit). */
  forget(dagId: string, cleared: boolean): void {
    this.#wrote(dagId);
    this.#entries -= this.#dags.get(dagId)?.size ?? 0;
    this.#dags.delete(dagId);
    if (cleared) this.#dags.set(dagId, new Map());
    this.#trim();
  }

  #wrote(dagId: string): void {
    const loading = this.#loading.get(dagId);
    if (loading !== undefined) loading.writes++;
  }

  #trim(): void {
    for (const [dagId, map] of this.#dags) {
      const over = this.#entries > MAX_ENTRIES || this.#dags.size > MAX_DAGS;
      if (!over || this.#dags.size <= 1) return;
      this.#dags.delete(dagId);
      this.#entries -= map.size;
    }
  }
}

function apply(map: Map<string, Where>, stamp: number, n: number, record: BundleRecord): void {
  for (const id of record.drops) map.delete(id);
  record.ids.forEach((id, i) => {
    map.set(id, [stamp, n, i]);
  });
}

/** Reads the DAG's bundles one at a time, in key order (the order they were written). */
function replay(os: IDBObjectStore, dagId: string): Promise<Map<string, Where>> {
  const map = new Map<string, Where>();
  return new Promise((resolve, reject) => {
    const request = os.openCursor(bundleRange(dagId));
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor === null) return resolve(map);
      const [stamp, n] = (cursor.key as [string, [number, number]])[1];
      if (isBundle(cursor.value)) apply(map, stamp, n, cursor.value);
      cursor.continue();
    };
  });
}

/** A bundled value: `found` false when its bundle is gone (a commit that failed). */
export function readBundled(
  os: IDBObjectStore,
  dagId: string,
  where: Where,
): Promise<{ found: boolean; value?: unknown }> {
  return new Promise((resolve, reject) => {
    const request = os.get(bundleKey(dagId, where[0], where[1]));
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const record: unknown = request.result;
      if (!isBundle(record) || record.ids.length <= where[2]) resolve({ found: false });
      else resolve({ found: true, value: record.values[where[2]] });
    };
  });
}

/** Each DAG's first key: an item's (strings sort first) or, with none, one of its bundles. */
export function firstKeys(os: IDBObjectStore): Promise<[string, unknown][]> {
  return new Promise((resolve, reject) => {
    const keys: [string, unknown][] = [];
    const request = os.openKeyCursor();
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const cursor = request.result;
      if (cursor === null) return resolve(keys);
      const key = cursor.key as [string, unknown];
      keys.push(key);
      cursor.continue([`${key[0]}\u0000`]); // jump past the rest of this DAG's keys
    };
  });
}
