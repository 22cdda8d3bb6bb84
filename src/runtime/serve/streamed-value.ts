import { type BinaryRef, restoreWith, type StoredParts } from '../../data/parts.ts';
import { KINDS } from '../../net/codec-format.ts';
import { Streamed } from '../../net/streamed.ts';

/**
 * A value kept in parts, to send to a peer without holding it whole: each binary becomes a
 * `Streamed` whose chunks are its parts, read one at a time (and one ahead). Undefined when some
 * binary cannot go so (a view on part of a buffer, or a buffer seen twice): it is then read
 * whole.
 */
export function streamedValue(stored: StoredParts): unknown {
  const { head } = stored;
  const first: number[] = [];
  let parts = 0;
  for (const bytes of head.buffers) {
    first.push(parts);
    parts += Math.ceil(bytes / head.partBytes);
  }
  const seen = new Set<number>();
  let whole = true;
  const value = restoreWith(head.skeleton, (ref) => {
    const bytes = head.buffers[ref.index] ?? 0;
    const kind = KINDS.find((k) => k.name === ref.kind);
    if (kind === undefined || seen.has(ref.index) || !coversAll(ref, kind, bytes)) whole = false;
    seen.add(ref.index);
    if (!whole || kind === undefined) return undefined;
    const count = Math.ceil(bytes / head.partBytes);
    return new Streamed(kind, bytes, chunks(stored, first[ref.index] ?? 0, count));
  });
  return whole ? value : undefined;
}

/** Whether a reference is a view on the whole of its buffer (what the wire can carry as one). */
function coversAll(ref: BinaryRef, kind: (typeof KINDS)[number], bytes: number): boolean {
  if (ref.offset !== 0) return false;
  if (kind === ArrayBuffer || kind === DataView)
    return kind === ArrayBuffer || ref.length === bytes;
  return ref.length * (kind as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT === bytes;
}

/** Parts `from` to `from + count - 1`, in order, the next one read while this one is sent. */
async function* chunks(stored: StoredParts, from: number, count: number) {
  let next = stored.part(from);
  try {
    for (let i = 0; i < count; i++) {
      const part = await next;
      if (i + 1 < count) next = stored.part(from + i + 1);
      yield ArrayBuffer.isView(part)
        ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
        : new Uint8Array(part);
    }
  } finally {
    next.catch(() => undefined); // a read ahead that nobody takes
  }
}
