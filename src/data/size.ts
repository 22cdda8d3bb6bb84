/** A rough size of a value in bytes: what the registry records and what decides "small". */
export function sizeOf(value: unknown, depth = 0): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'number') return 8;
  if (typeof value === 'string') return 4 + value.length * 2;
  if (typeof value === 'bigint') return 16;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (depth > 64 || typeof value !== 'object') return 8;
  let total = 8;
  if (value instanceof Map)
    for (const [k, v] of value) total += sizeOf(k, depth + 1) + sizeOf(v, depth + 1);
  else if (value instanceof Set) for (const v of value) total += sizeOf(v, depth + 1);
  else if (Array.isArray(value)) for (const v of value) total += sizeOf(v, depth + 1);
  else for (const [k, v] of Object.entries(value)) total += k.length * 2 + sizeOf(v, depth + 1);
  return total;
}

/** What structured clone writes for a value, roughly: a view counts its whole buffer. */
export function storedSize(value: unknown, depth = 0): number {
  if (typeof value === 'string') return 4 + value.length * 2;
  if (typeof value !== 'object' || value === null) return 8;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.buffer.byteLength;
  if (depth > 256) return 8;
  let total = 8;
  const add = (v: unknown) => {
    total += storedSize(v, depth + 1);
  };
  if (value instanceof Map) {
    for (const [k, v] of value) {
      add(k);
      add(v);
    }
  } else if (value instanceof Set) value.forEach(add);
  else if (Array.isArray(value)) value.forEach(add);
  else if (isPlain(value)) Object.values(value).forEach(add);
  return total;
}

/** A plain object: what structured clone and the codec copy key by key. */
export function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
