/**
 * The value codec: a small tagged binary format that keeps JavaScript types across the wire
 * (numbers incl. -0/NaN, strings, arrays, plain objects, Map, Set, Date, bigint, ArrayBuffer,
 * every typed array and DataView). It never evaluates anything it reads.
 *
 * Large binaries (at least `attachmentBytes`) are not copied into the head: they travel as
 * attachments, which the framing layer streams straight from the sender's memory and the
 * receiver allocates at their exact size, so a 64 MiB buffer is never held twice.
 */

export class CodecError extends Error {
  override name = 'CodecError';
}

const Tag = {
  Undefined: 0,
  Null: 1,
  False: 2,
  True: 3,
  Int32: 4,
  Float64: 5,
  String: 6,
  Array: 7,
  Object: 8,
  Map: 9,
  Set: 10,
  Date: 11,
  BigInt: 12,
  Bytes: 13, // ArrayBuffer or view, inline: u8 kind, u32 length, bytes
  Attachment: 14, // ArrayBuffer or view, out of line: u8 kind, u32 attachment index
} as const;

/** Binary kinds, in a fixed order shared by both ends. */
const KINDS = [
  ArrayBuffer,
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
] as const;

type Binary = ArrayBuffer | ArrayBufferView;

export interface Encoded {
  /** Everything but the attachments. */
  readonly head: Uint8Array;
  /** Views on the sender's own large binaries, in reference order; not copied. */
  readonly attachments: readonly Uint8Array[];
}

export interface EncodeOptions {
  /** Binaries at least this large travel as attachments. @default 16384 */
  readonly attachmentBytes?: number;
}

/** Deepest nesting either side accepts; guards the decoder's recursion. */
export const MAX_DEPTH = 256;
const encoder = new TextEncoder();
/** Strings up to this long are tried as plain ASCII first. */
const SHORT = 64;
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encode(value: unknown, options: EncodeOptions = {}): Encoded {
  const writer = new Writer(options.attachmentBytes ?? 16_384);
  writer.value(value, 0);
  return { head: writer.bytes(), attachments: writer.attachments };
}

/** Decodes a head with its attachments (each exactly one attachment's bytes). */
export function decode(head: Uint8Array, attachments: readonly ArrayBuffer[] = []): unknown {
  const reader = new Reader(head, attachments);
  let value: unknown;
  try {
    value = reader.value(0);
  } catch (error) {
    // Whatever a hostile input provokes surfaces as one error type, never as a crash.
    if (error instanceof CodecError) throw error;
    throw new CodecError(`undecodable data: ${String(error)}`);
  }
  if (reader.offset !== head.length) throw new CodecError('trailing bytes after the value');
  return value;
}

class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #at = 0;
  readonly attachments: Uint8Array[] = [];
  readonly #seen = new Set<object>();

  constructor(readonly attachmentBytes: number) {}

  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#at);
  }

  value(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new CodecError(`value nested deeper than ${MAX_DEPTH}`);
    switch (typeof v) {
      case 'undefined':
        return this.#u8(Tag.Undefined);
      case 'boolean':
        return this.#u8(v ? Tag.True : Tag.False);
      case 'number':
        if (Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 && !Object.is(v, -0)) {
          this.#u8(Tag.Int32);
          this.#reserve(4);
          this.#view.setInt32(this.#at, v);
          this.#at += 4;
          return;
        }
        this.#u8(Tag.Float64);
        return this.#f64(v);
      case 'string':
        this.#u8(Tag.String);
        return this.#string(v);
      case 'bigint':
        this.#u8(Tag.BigInt);
        return this.#string(v.toString());
      case 'object':
        if (v === null) return this.#u8(Tag.Null);
        return this.#object(v, depth);
      default:
        throw new CodecError(`cannot send a ${typeof v} over the wire`);
    }
  }

  #object(v: object, depth: number): void {
    if (this.#seen.has(v)) throw new CodecError('cannot send a value that contains itself');
    if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return this.#binary(v);
    if (v instanceof Date) {
      this.#u8(Tag.Date);
      return this.#f64(v.getTime());
    }
    this.#seen.add(v);
    if (Array.isArray(v)) {
      this.#u8(Tag.Array);
      this.#u32(v.length);
      for (let i = 0; i < v.length; i++) this.value(v[i], depth + 1);
    } else if (v instanceof Map) {
      this.#u8(Tag.Map);
      this.#u32(v.size);
      for (const [key, item] of v) {
        this.value(key, depth + 1);
        this.value(item, depth + 1);
      }
    } else if (v instanceof Set) {
      this.#u8(Tag.Set);
      this.#u32(v.size);
      for (const item of v) this.value(item, depth + 1);
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        throw new CodecError(`cannot send a ${name}: only plain objects, arrays, Map, Set...`);
      }
      const keys = Object.keys(v);
      this.#u8(Tag.Object);
      this.#u32(keys.length);
      for (const key of keys) {
        this.#string(key);
        this.value((v as Record<string, unknown>)[key], depth + 1);
      }
    }
    this.#seen.delete(v);
  }

  #binary(v: Binary): void {
    const kind = KINDS.findIndex((k) => v instanceof k);
    if (kind < 0) throw new CodecError('unsupported binary type');
    const bytes =
      v instanceof ArrayBuffer
        ? new Uint8Array(v)
        : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    if (bytes.byteLength >= this.attachmentBytes) {
      this.#u8(Tag.Attachment);
      this.#u8(kind);
      this.#u32(this.attachments.length);
      this.attachments.push(bytes);
      return;
    }
    this.#u8(Tag.Bytes);
    this.#u8(kind);
    this.#u32(bytes.byteLength);
    this.#reserve(bytes.byteLength);
    this.#buf.set(bytes, this.#at);
    this.#at += bytes.byteLength;
  }

  #string(s: string): void {
    // Reserve the worst case (3 bytes per UTF-16 unit), then write in place.
    this.#reserve(4 + s.length * 3);
    if (s.length <= SHORT && this.#ascii(s)) return;
    const { written } = encoder.encodeInto(s, this.#buf.subarray(this.#at + 4));
    this.#view.setUint32(this.#at, written);
    this.#at += 4 + written;
  }

  /** Short ASCII strings (ids, keys, tags: most of them) skip TextEncoder's call overhead. */
  #ascii(s: string): boolean {
    const start = this.#at + 4;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      this.#buf[start + i] = c;
    }
    this.#view.setUint32(this.#at, s.length);
    this.#at = start + s.length;
    return true;
  }

  #u8(n: number): void {
    this.#reserve(1);
    this.#buf[this.#at++] = n;
  }

  #u32(n: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#at, n);
    this.#at += 4;
  }

  #f64(n: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#at, n);
    this.#at += 8;
  }

  #reserve(n: number): void {
    if (this.#at + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#at + n));
    next.set(this.#buf.subarray(0, this.#at));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

class Reader {
  offset = 0;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly attachments: readonly ArrayBuffer[],
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw new CodecError(`value nested deeper than ${MAX_DEPTH}`);
    const tag = this.#u8();
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Int32:
        this.#need(4);
        this.offset += 4;
        return this.#view.getInt32(this.offset - 4);
      case Tag.Float64:
        return this.#f64();
      case Tag.String:
        return this.#string();
      case Tag.Array: {
        const n = this.#count(1);
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.value(depth + 1);
        return out;
      }
      case Tag.Object: {
        const n = this.#count(5);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.#string();
          // defineProperty, so a key named __proto__ is data, never a prototype change
          Object.defineProperty(out, key, {
            value: this.value(depth + 1),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return out;
      }
      case Tag.Map: {
        const n = this.#count(2);
        const out = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) out.set(this.value(depth + 1), this.value(depth + 1));
        return out;
      }
      case Tag.Set: {
        const n = this.#count(1);
        const out = new Set<unknown>();
        for (let i = 0; i < n; i++) out.add(this.value(depth + 1));
        return out;
      }
      case Tag.Date:
        return new Date(this.#f64());
      case Tag.BigInt: {
        const text = this.#string();
        if (!/^-?\d{1,100000}$/.test(text)) throw new CodecError('malformed bigint');
        return BigInt(text);
      }
      case Tag.Bytes: {
        const kind = this.#u8();
        const length = this.#u32();
        this.#need(length);
        const start = this.bytes.byteOffset + this.offset;
        // A copy: the value must not keep the whole received frame alive.
        const buffer = this.bytes.buffer.slice(start, start + length) as ArrayBuffer;
        this.offset += length;
        return view(kind, buffer);
      }
      case Tag.Attachment: {
        const kind = this.#u8();
        const index = this.#u32();
        const buffer = this.attachments[index];
        if (buffer === undefined) throw new CodecError(`no attachment ${index}`);
        return view(kind, buffer);
      }
      default:
        throw new CodecError(`unknown tag ${tag}`);
    }
  }

  /** A count of items, each at least `minBytes` long: a lie cannot allocate more than we hold. */
  #count(minBytes: number): number {
    const n = this.#u32();
    if (n * minBytes > this.bytes.length - this.offset)
      throw new CodecError('count beyond the data');
    return n;
  }

  #string(): string {
    const length = this.#u32();
    this.#need(length);
    if (length <= SHORT) {
      const ascii = this.#ascii(length);
      if (ascii !== undefined) return ascii;
    }
    let text: string;
    try {
      text = decoder.decode(this.bytes.subarray(this.offset, this.offset + length));
    } catch {
      throw new CodecError('invalid UTF-8 in a string');
    }
    this.offset += length;
    return text;
  }

  #ascii(length: number): string | undefined {
    const { bytes, offset } = this;
    let text = '';
    for (let i = 0; i < length; i++) {
      const c = bytes[offset + i] as number;
      if (c >= 0x80) return undefined;
      text += String.fromCharCode(c);
    }
    this.offset += length;
    return text;
  }

  #u8(): number {
    this.#need(1);
    return this.bytes[this.offset++] as number;
  }

  #u32(): number {
    this.#need(4);
    this.offset += 4;
    return this.#view.getUint32(this.offset - 4);
  }

  #f64(): number {
    this.#need(8);
    this.offset += 8;
    return this.#view.getFloat64(this.offset - 8);
  }

  #need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new CodecError('truncated data');
  }
}

function view(kind: number, buffer: ArrayBuffer): Binary {
  const Kind = KINDS[kind];
  if (Kind === undefined) throw new CodecError(`unknown binary kind ${kind}`);
  if (Kind === ArrayBuffer) return buffer;
  if (Kind === DataView) return new DataView(buffer);
  const size = (Kind as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (buffer.byteLength % size !== 0)
    throw new CodecError('binary length not a whole number of elements');
  return new (Kind as Uint8ArrayConstructor)(buffer);
}
