import { isPlain, storedSize } from './size.ts';

/**
 * Big values in parts. A store record has a size limit (Chromium refuses an IndexedDB record
 * above about 127 MiB), so a value whose binaries are large is kept as a small head record,
 * holding the value with each large binary replaced by a reference, and the binaries' bytes
 * cut into parts of at most {@link PART_BYTES}. Both stores use this; each writes the head and
 * its parts in one transaction, so a reader sees the whole value or none of it.
 */

/** Values that may hold this much (see `storedSize`) are looked at for parts. */
export const SPLIT_BYTES = 32 << 20;
/** The largest part. 8 MiB parts went in fastest (82-87 MB/s against 71-79 for 16-64 MiB). */
export const PART_BYTES = 8 << 20;
/** Binaries at least this large (or a part, if smaller) leave the head. */
const MIN_BINARY = 1 << 20;

/** How a store cuts values; tests use small sizes. */
export interface PartSizes {
  /** @default 32 MiB ({@link SPLIT_BYTES}) */
  readonly splitBytes?: number | undefined;
  /** @default 8 MiB ({@link PART_BYTES}) */
  readonly partBytes?: number | undefined;
}

/** The head and binaries of `value` if it is worth keeping in parts (see {@link split}). */
export function splitIfBig(
  value: unknown,
  sizes: PartSizes = {},
  size = storedSize(value),
): Split | undefined {
  const partBytes = sizes.partBytes ?? PART_BYTES;
  if (size < (sizes.splitBytes ?? SPLIT_BYTES)) return undefined;
  return split(value, partBytes);
}
/** Deeper than this, a value is kept as it is (what structured clone does with it). */
const MAX_DEPTH = 256;

const HEAD = '\u0000handout:parts';
const REF = '\u0000handout:part';

/** The record kept under the value's own key when its bytes are in parts. */
export interface PartsHead {
  readonly [HEAD]: 1;
  /** The value, each large binary replaced by a {@link Ref}. */
  readonly skeleton: unknown;
  /** Each binary's byte length, in reference order; its bytes are in parts, in order. */
  readonly buffers: readonly number[];
  /** Bytes per part (the last part of each binary may be shorter). */
  readonly partBytes: number;
  /** Set when the parts were written as they arrived (`ResultStore.stageParts`): their key. */
  readonly stamp?: string | undefined;
}

interface Ref {
  readonly [REF]: number;
  /** The view's constructor name, or `ArrayBuffer`. */
  readonly kind: string;
  readonly offset: number;
  /** Elements for a typed array, bytes for a DataView. */
  readonly length: number;
}

/** A value's head and the parts to write after it. */
export interface Split {
  readonly head: PartsHead;
  /** The large binaries, whole; {@link partsOf} cuts them. */
  readonly binaries: readonly ArrayBuffer[];
  /** Bytes in parts. */
  readonly bytes: number;
}

/**
 * The head and binaries of a value worth keeping in parts, or undefined: it holds no binary of
 * at least 1 MiB, or it contains itself (kept as one record, as before).
 */
export function split(value: unknown, partBytes = PART_BYTES): Split | undefined {
  const minBinary = Math.min(MIN_BINARY, partBytes);
  const binaries: ArrayBuffer[] = [];
  const index = new Map<ArrayBuffer, number>();
  const walking = new Set<object>();
  let cyclic = false;
  const ref = (buffer: ArrayBuffer, kind: string, offset: number, length: number): Ref => {
    let at = index.get(buffer);
    if (at === undefined) {
      at = binaries.push(buffer) - 1;
      index.set(buffer, at);
    }
    return { [REF]: at, kind, offset, length };
  };
  // Returns the value itself when nothing inside it changes, so only the path to a binary is copied.
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return v;
    if (v instanceof ArrayBuffer)
      return v.byteLength >= minBinary ? ref(v, 'ArrayBuffer', 0, 0) : v;
    if (ArrayBuffer.isView(v)) {
      const { buffer } = v;
      if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < minBinary) return v;
      const kind = Object.keys(VIEWS).find((name) => {
        const View = VIEWS[name];
        return View !== undefined && v instanceof View;
      });
      if (kind === undefined) return v;
      const length = v instanceof DataView ? v.byteLength : (v as Uint8Array).length;
      return ref(buffer, kind, v.byteOffset, length);
    }
    const container = v instanceof Map || v instanceof Set || Array.isArray(v) || isPlain(v);
    if (!container) return v;
    if (walking.has(v)) {
      cyclic = true;
      return v;
    }
    walking.add(v);
    let out: unknown = v;
    if (v instanceof Map) {
      const before = [...v];
      const after = before.map(([k, x]) => [walk(k, depth + 1), walk(x, depth + 1)] as const);
      if (after.some(([k, x], i) => k !== before[i]?.[0] || x !== before[i]?.[1]))
        out = new Map(after);
    } else if (v instanceof Set) {
      const before = [...v];
      const after = before.map((x) => walk(x, depth + 1));
      if (after.some((x, i) => x !== before[i])) out = new Set(after);
    } else if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x = walk(v[i], depth + 1);
        if (x !== v[i] && copy === undefined) copy = v.slice(0, i);
        copy?.push(x);
      }
      if (copy !== undefined) out = copy;
    } else {
      const record = v as Record<string, unknown>;
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(record)) {
        const x = walk(record[key], depth + 1);
        if (x !== record[key]) copy ??= { ...record };
        if (copy !== undefined) copy[key] = x;
      }
      if (copy !== undefined) out = copy;
    }
    walking.delete(v);
    return out;
  };
  const skeleton = walk(value, 0);
  if (cyclic || binaries.length === 0) return undefined;
  const buffers = binaries.map((b) => b.byteLength);
  return {
    head: { [HEAD]: 1, skeleton, buffers, partBytes },
    binaries,
    bytes: buffers.reduce((a, b) => a + b, 0),
  };
}

/** The parts of a split value, in order, as views on its binaries. */
export function* partViews({ binaries, head }: Split): Generator<Uint8Array> {
  for (const binary of binaries) {
    for (let at = 0; at < binary.byteLength; at += head.partBytes)
      yield new Uint8Array(binary, at, Math.min(head.partBytes, binary.byteLength - at));
  }
}

/** The parts of a split value, in order, each a fresh copy (a store clones a view's whole buffer). */
export function* partsOf(split: Split): Generator<ArrayBuffer> {
  for (const view of partViews(split)) yield view.slice().buffer;
}

/** Whether a stored record is the head of a value in parts. */
export function isHead(record: unknown): record is PartsHead {
  if (typeof record !== 'object' || record === null || !(HEAD in record)) return false;
  const { buffers, partBytes, stamp } = record as Partial<PartsHead>;
  return (
    (stamp === undefined || (typeof stamp === 'string' && stamp.length <= 64)) &&
    Array.isArray(buffers) &&
    buffers.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    typeof partBytes === 'number' &&
    Number.isSafeInteger(partBytes) &&
    partBytes > 0
  );
}

/** How many parts a head's value has. */
export function partCount(head: PartsHead): number {
  return head.buffers.reduce((n, bytes) => n + Math.ceil(bytes / head.partBytes), 0);
}

/** A stamp for a value written as it arrives (see `PartsHead.stamp`): 16 random hex digits. */
export function newStamp(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Each part's size, in order. */
export function partSizes({ buffers, partBytes }: PartsHead): number[] {
  const sizes: number[] = [];
  for (const bytes of buffers)
    for (let at = 0; at < bytes; at += partBytes) sizes.push(Math.min(partBytes, bytes - at));
  return sizes;
}

/** Where a stored value refers to one of its binaries. */
export interface BinaryRef {
  /** Which binary of the head's `buffers`. */
  readonly index: number;
  /** `ArrayBuffer`, or the view's constructor name. */
  readonly kind: string;
  readonly offset: number;
  /** Elements for a typed array, bytes for a DataView. */
  readonly length: number;
}

/**
 * A value kept in parts, opened for reading one part at a time (to send it without holding it
 * whole): its head, and each part by its number.
 */
export interface StoredParts {
  readonly head: PartsHead;
  part(i: number): Promise<ArrayBuffer | ArrayBufferView>;
}

/** The skeleton with every reference replaced by what `make` gives for it. */
export function restoreWith(skeleton: unknown, make: (ref: BinaryRef) => unknown): unknown {
  const seen = new Map<object, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v !== 'object' || v === null || depth > MAX_DEPTH) return v;
    if (seen.has(v)) return seen.get(v);
    if (isRef(v)) return make({ index: v[REF], kind: v.kind, offset: v.offset, length: v.length });
    if (v instanceof Map) {
      const out = new Map();
      seen.set(v, out);
      for (const [k, x] of v) out.set(walk(k, depth + 1), walk(x, depth + 1));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set();
      seen.set(v, out);
      for (const x of v) out.add(walk(x, depth + 1));
      return out;
    }
    if (Array.isArray(v) || isPlain(v)) {
      // A fresh copy from the store: filled in place.
      seen.set(v, v);
      const record = v as Record<string, unknown>;
      for (const key of Object.keys(record)) record[key] = walk(record[key], depth + 1);
    }
    return v;
  };
  return walk(skeleton, 0);
}

const VIEWS: Record<string, new (b: ArrayBuffer, offset: number, length: number) => unknown> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};

/** The view (or buffer) a reference stands for. */
export function view(ref: BinaryRef, buffers: readonly ArrayBuffer[]): unknown {
  const buffer = buffers[ref.index];
  if (buffer === undefined)
    throw new RangeError(`a stored value refers to missing part ${ref.index}`);
  if (ref.kind === 'ArrayBuffer') return buffer;
  const View = VIEWS[ref.kind];
  if (View === undefined) throw new RangeError(`a stored value has an unknown view '${ref.kind}'`);
  return new View(buffer, ref.offset, ref.length);
}

function isRef(v: object): v is Ref {
  return REF in v && typeof (v as Ref)[REF] === 'number';
}
