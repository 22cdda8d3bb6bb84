import type { Channel } from './channel.ts';
import { CodecError, type Encoded } from './codec.ts';
import { Outgoing } from './outgoing.ts';
import { PROTOCOL_VERSION } from './protocol.ts';
import type { Allocate } from './warm-buffers.ts';

/**
 * Frames: how encoded messages become channel messages no larger than `chunkBytes`.
 *
 *   SINGLE [1][version][head]                                       a small message
 *   START  [2][version][transfer u32][head u32][n u16][size u32]*n  a large one begins
 *   DATA   [3][version][transfer u32][bytes]                        its bytes, in order
 *
 * A large message's bytes are its head and then each attachment, streamed from the sender's
 * memory and written by the receiver into buffers of their exact size. Transfers to one peer
 * interleave frame by frame; small messages go first, so heartbeats never wait behind 64 MiB.
 * The reader is in `frame-reader.ts`.
 */
export const SINGLE = 1;
export const START = 2;
export const DATA = 3;
export const DATA_HEADER = 6;
/** The largest message, head and attachments together, unless the framing options say less. */
export const MAX_MESSAGE_BYTES = 1 << 30;

/** The frame size of a WebRTC link: 64 KiB measured as fast as 16 or 256 KiB in Chromium and Firefox. */
export const WEBRTC_CHUNK_BYTES = 65_536;

/**
 * Framing for a data channel whose peer takes messages of at most `maxMessageSize` bytes (its
 * SDP's max-message-size: 256 KiB from Chromium, 1 GiB between Firefoxes, 64 KiB when a peer
 * says nothing): 64 KiB frames, smaller only where the peer takes less.
 */
export function framingFor(maxMessageSize: number | undefined): FramingOptions | undefined {
  if (maxMessageSize === undefined || !(maxMessageSize >= 1024)) return undefined;
  return maxMessageSize < WEBRTC_CHUNK_BYTES ? { chunkBytes: maxMessageSize } : undefined;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export interface FramingOptions {
  /** Largest frame sent. @default 65536 */
  readonly chunkBytes?: number;
  /** Stop sending while the channel has this much queued. @default 4 MiB */
  readonly highWater?: number;
  /** Resume when the queue drains to this. @default 1 MiB */
  readonly lowWater?: number;
  /** Largest message sent or accepted, head and attachments together. @default 1 GiB */
  readonly maxMessageBytes?: number;
  /** Largest frame accepted. @default 256 KiB */
  readonly maxFrameBytes?: number;
  /** Large messages being received at once from one peer. @default 64 */
  readonly maxTransfers?: number;
  /**
   * Where a large message's binaries get their memory, asked when the message begins (a lane's
   * helper Worker, see `warm-buffers.ts`). @default each made when its first byte comes
   */
  readonly allocate?: Allocate | undefined;
}

export class FrameWriter {
  readonly #channel: Channel;
  readonly #chunk: number;
  readonly #high: number;
  readonly #maxMessage: number;
  readonly #scratch: Uint8Array;
  /** The channel takes the frames it is given: each is a fresh buffer. */
  readonly #fresh: boolean;
  readonly #urgent: Uint8Array[] = [];
  #transfers: Outgoing[] = [];
  #next = 0;
  #nextId = 1;
  #closed = false;

  constructor(channel: Channel, options: FramingOptions = {}) {
    this.#channel = channel;
    this.#chunk = options.chunkBytes ?? WEBRTC_CHUNK_BYTES;
    this.#high = options.highWater ?? 4 << 20;
    this.#maxMessage = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.#fresh = channel.takes === true;
    this.#scratch = this.#fresh ? new Uint8Array(0) : new Uint8Array(this.#chunk);
    channel.onDrain(options.lowWater ?? 1 << 20, () => this.#pump());
  }

  /**
   * Queues a message; it goes out as fast as the channel drains. Throws `CodecError` for one
   * larger than a receiver accepts, rather than send bytes that will be refused.
   */
  write({ head, attachments }: Encoded): void {
    if (this.#closed) return;
    const bytes = attachments.reduce((sum, a) => sum + a.byteLength, head.length);
    if (bytes > this.#maxMessage)
      throw new CodecError(
        `a message of ${mib(bytes)} is larger than the ${mib(this.#maxMessage)} one message may carry`,
      );
    if (attachments.length === 0 && head.length + 2 <= this.#chunk) {
      const frame = new Uint8Array(head.length + 2);
      frame[0] = SINGLE;
      frame[1] = PROTOCOL_VERSION;
      frame.set(head, 2);
      this.#urgent.push(frame);
    } else {
      if (attachments.length > 4096)
        throw new RangeError('more than 4096 large binaries in one message');
      const id = this.#nextId;
      this.#nextId = (this.#nextId % 0xffffffff) + 1;
      this.#transfers.push(new Outgoing(id, [head, ...attachments], () => this.#pump()));
    }
    this.#pump();
  }

  /** Bytes of large messages not yet handed to the channel. */
  get pending(): number {
    return this.#transfers.reduce((sum, t) => sum + t.remaining, 0);
  }

  close(): void {
    this.#closed = true;
    this.#urgent.length = 0;
    for (const t of this.#transfers) t.cancel();
    this.#transfers = [];
  }

  #pump(): void {
    /** Transfers passed over in a row because their next bytes are still being read. */
    let waiting = 0;
    while (!this.#closed && this.#channel.bufferedAmount < this.#high) {
      const urgent = this.#urgent.shift();
      if (urgent !== undefined) {
        this.#channel.send(urgent);
        continue;
      }
      if (this.#transfers.length === 0 || waiting >= this.#transfers.length) return;
      this.#next %= this.#transfers.length;
      const transfer = this.#transfers[this.#next] as Outgoing;
      if (transfer.failed !== undefined) {
        // Its source failed: the receiver never completes it, and its request times out idle.
        this.#transfers.splice(this.#next, 1);
        continue;
      }
      if (transfer.started && transfer.available() === undefined) {
        this.#next++;
        waiting++;
        continue;
      }
      waiting = 0;
      this.#channel.send(this.#frame(transfer));
      if (transfer.done) this.#transfers.splice(this.#next, 1);
      else this.#next++;
    }
  }

  /** The next frame of a transfer. The scratch buffer is reused (`send` copies) unless taken. */
  #frame(t: Outgoing): Uint8Array {
    if (!t.started) {
      t.started = true;
      const sizes = t.sizes;
      const n = sizes.length - 1;
      const frame = new Uint8Array(12 + 4 * n);
      const fv = new DataView(frame.buffer);
      frame[0] = START;
      frame[1] = PROTOCOL_VERSION;
      fv.setUint32(2, t.id);
      fv.setUint32(6, sizes[0] as number);
      fv.setUint16(10, n);
      for (let i = 1; i <= n; i++) fv.setUint32(8 + 4 * i, sizes[i] as number);
      return frame;
    }
    const out = this.#fresh
      ? new Uint8Array(DATA_HEADER + t.ready(this.#chunk - DATA_HEADER))
      : this.#scratch;
    out[0] = DATA;
    out[1] = PROTOCOL_VERSION;
    new DataView(out.buffer, out.byteOffset).setUint32(2, t.id);
    let at = DATA_HEADER;
    while (at < out.length) {
      const bytes = t.available();
      if (bytes === undefined || bytes.length === 0) break;
      const n = Math.min(out.length - at, bytes.length);
      out.set(bytes.subarray(0, n), at);
      at += n;
      t.advance(n);
    }
    return out.subarray(0, at);
  }
}
