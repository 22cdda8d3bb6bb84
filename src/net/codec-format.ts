/** What both ends of the value codec agree on: tags, binary kinds, limits. */

export class CodecError extends Error {
  override name = 'CodecError';
}

export const Tag = {
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
export const KINDS = [
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

export type Binary = ArrayBuffer | ArrayBufferView;

/** Deepest nesting either side accepts; guards the decoder's recursion. */
export const MAX_DEPTH = 256;
/** Strings up to this long are tried as plain ASCII first. */
export const SHORT = 64;
