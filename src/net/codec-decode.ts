import { type Binary, CodecError, KINDS, MAX_DEPTH, SHORT, Tag } from './codec-format.ts';

const decoder = new TextDecoder('utf-8', { fatal: true });

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
          const value = this.value(depth + 1);
          // A key named __proto__ is data, never a prototype change. Only it is defined: an
          // object built by defineProperty reads ten times slower than one built by assignment.
          if (key === '__proto__')
            Object.defineProperty(out, key, {
              value,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else out[key] = value;
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
