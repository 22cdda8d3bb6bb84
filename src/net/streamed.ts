import { KINDS } from './codec-format.ts';

/** What a streamed binary is received as: `ArrayBuffer`, a typed array or `DataView`. */
export type BinaryKind = (typeof KINDS)[number];

/**
 * A binary sent without ever being held whole by the sender: its kind and size are known, its
 * bytes come in order from `chunks` (parts read one at a time from a store). The codec sends it
 * as an attachment and the framing pulls a chunk when the channel has room for it; the receiver
 * gets an ordinary binary of that kind. Chunks that do not add up to `byteLength`, or a source
 * that fails, drop the message (the receiver's request then times out as idle).
 */
export class Streamed {
  readonly kind: number;

  constructor(
    kind: BinaryKind,
    readonly byteLength: number,
    readonly chunks: AsyncIterable<Uint8Array>,
  ) {
    this.kind = KINDS.indexOf(kind);
    if (this.kind < 0) throw new TypeError('unsupported binary kind');
  }
}

/** An attachment: bytes at hand, or bytes to come. */
export type Attachment = Uint8Array | Streamed;
