/**
 * The value codec: a small tagged binary format that keeps JavaScript types across the wire
 * (numbers incl. -0/NaN, strings, arrays, plain objects, Map, Set, Date, bigint, ArrayBuffer,
 * every typed array and DataView). It never evaluates anything it reads.
 *
 * Large binaries (at least `attachmentBytes`) are not copied into the head: they travel as
 * attachments, which the framing layer streams straight from the sender's memory and the
 * receiver allocates at their exact size, so a 64 MiB buffer is never held twice.
 */

import { type Binary, CodecError, KINDS, MAX_DEPTH, SHORT, Tag } from './codec-format.ts';
import { type Attachment, Streamed } from './streamed.ts';

export { decode } from './codec-decode.ts';
export { CodecError, MAX_DEPTH } from './codec-format.ts';
export { type Attachment, Streamed } from './streamed.ts';

export interface Encoded {
  /** Everything but the attachments. */
  readonly head: Uint8Array;
  /** Views on the sender's own large binaries (or binaries to stream), in reference order; not copied. */
  readonly attachments: readonly Attachment[];
}

export interface EncodeOptions {
  /** Binaries at least this large travel as attachments. @default 16384 */
  readonly attachmentBytes?: number;
}

const encoder = new TextEncoder();

export function encode(value: unknown, options: EncodeOptions = {}): Encoded {
  const writer = new Writer(options.attachmentBytes ?? 16_384);
  writer.value(value, 0);
  return { head: writer.bytes(), attachments: writer.attachments };
}

class Writer {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #at = 0;
  readonly attachments: Attachment[] = [];
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
    if (v instanceof Streamed) {
      this.#u8(Tag.Attachment);
      this.#u8(v.kind);
      this.#u32(this.attachments.length);
      this.attachments.push(v);
      return;
    }
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
