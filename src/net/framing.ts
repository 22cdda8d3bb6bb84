import type { Channel } from './channel.ts';
import type { Encoded } from './codec.ts';
import { type DropReason, PROTOCOL_VERSION } from './protocol.ts';

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
 */
const SINGLE = 1;
const START = 2;
const DATA = 3;
const DATA_HEADER = 6;

export interface FramingOptions {
  /** Largest frame sent. @default 65536 */
  readonly chunkBytes?: number;
  /** Stop sending while the channel has this much queued. @default 4 MiB */
  readonly highWater?: number;
  /** Resume when the queue drains to this. @default 1 MiB */
  readonly lowWater?: number;
  /** Largest message accepted, head and attachments together. @default 1 GiB */
  readonly maxMessageBytes?: number;
  /** Largest frame accepted. @default 256 KiB */
  readonly maxFrameBytes?: number;
  /** Large messages being received at once from one peer. @default 64 */
  readonly maxTransfers?: number;
}

interface Outgoing {
  readonly id: number;
  readonly segments: readonly Uint8Array[];
  started: boolean;
  segment: number;
  offset: number;
}

export class FrameWriter {
  readonly #channel: Channel;
  readonly #chunk: number;
  readonly #high: number;
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
    this.#chunk = options.chunkBytes ?? 65_536;
    this.#high = options.highWater ?? 4 << 20;
    this.#fresh = channel.takes === true;
    this.#scratch = this.#fresh ? new Uint8Array(0) : new Uint8Array(this.#chunk);
    channel.onDrain(options.lowWater ?? 1 << 20, () => this.#pump());
  }

  /** Queues a message; it goes out as fast as the channel drains. */
  write({ head, attachments }: Encoded): void {
    if (this.#closed) return;
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
      this.#transfers.push({
        id,
        segments: [head, ...attachments],
        started: false,
        segment: 0,
        offset: 0,
      });
    }
    this.#pump();
  }

  /** Bytes of large messages not yet handed to the channel. */
  get pending(): number {
    let bytes = 0;
    for (const t of this.#transfers) {
      for (let i = t.segment; i < t.segments.length; i++) {
        bytes += (t.segments[i] as Uint8Array).length - (i === t.segment ? t.offset : 0);
      }
    }
    return bytes;
  }

  close(): void {
    this.#closed = true;
    this.#urgent.length = 0;
    this.#transfers = [];
  }

  #pump(): void {
    while (!this.#closed && this.#channel.bufferedAmount < this.#high) {
      const urgent = this.#urgent.shift();
      if (urgent !== undefined) {
        this.#channel.send(urgent);
        continue;
      }
      if (this.#transfers.length === 0) return;
      this.#next %= this.#transfers.length;
      const transfer = this.#transfers[this.#next] as Outgoing;
      this.#channel.send(this.#frame(transfer));
      if (transfer.segment >= transfer.segments.length) {
        this.#transfers.splice(this.#next, 1);
      } else {
        this.#next++;
      }
    }
  }

  /** The next frame of a transfer. The scratch buffer is reused (`send` copies) unless taken. */
  #frame(t: Outgoing): Uint8Array {
    const out = this.#fresh ? new Uint8Array(this.#frameSize(t)) : this.#scratch;
    const view = new DataView(out.buffer);
    if (!t.started) {
      t.started = true;
      const n = t.segments.length - 1;
      const size = 12 + 4 * n;
      const frame = size <= out.length ? out.subarray(0, size) : new Uint8Array(size);
      const fv = new DataView(frame.buffer, frame.byteOffset);
      frame[0] = START;
      frame[1] = PROTOCOL_VERSION;
      fv.setUint32(2, t.id);
      fv.setUint32(6, (t.segments[0] as Uint8Array).length);
      fv.setUint16(10, n);
      for (let i = 1; i <= n; i++) fv.setUint32(8 + 4 * i, (t.segments[i] as Uint8Array).length);
      this.#skipEmpty(t);
      return frame;
    }
    out[0] = DATA;
    out[1] = PROTOCOL_VERSION;
    view.setUint32(2, t.id);
    let at = DATA_HEADER;
    while (at < out.length && t.segment < t.segments.length) {
      const segment = t.segments[t.segment] as Uint8Array;
      const n = Math.min(out.length - at, segment.length - t.offset);
      out.set(segment.subarray(t.offset, t.offset + n), at);
      at += n;
      t.offset += n;
      this.#skipEmpty(t);
    }
    return out.subarray(0, at);
  }

  /** The size of a transfer's next frame: a START frame's header, or a DATA frame's bytes. */
  #frameSize(t: Outgoing): number {
    if (!t.started) return 12 + 4 * (t.segments.length - 1);
    let left = 0;
    for (let i = t.segment; i < t.segments.length && left < this.#chunk; i++)
      left += (t.segments[i] as Uint8Array).length - (i === t.segment ? t.offset : 0);
    return Math.min(this.#chunk, DATA_HEADER + left);
  }

  #skipEmpty(t: Outgoing): void {
    while (
      t.segment < t.segments.length &&
      t.offset >= (t.segments[t.segment] as Uint8Array).length
    ) {
      t.segment++;
      t.offset = 0;
    }
  }
}

interface Incoming {
  readonly sizes: readonly number[];
  readonly buffers: Uint8Array[];
  segment: number;
  offset: number;
}

export type FrameSink = (head: Uint8Array, attachments: ArrayBuffer[]) => void;
export type DropSink = (reason: DropReason, detail: string) => void;

export class FrameReader {
  readonly #transfers = new Map<number, Incoming>();
  /** Transfers refused at START, whose DATA frames are dropped quietly. */
  readonly #refused = new Set<number>();
  readonly #maxMessage: number;
  readonly #maxFrame: number;
  readonly #maxTransfers: number;

  constructor(
    readonly onMessage: FrameSink,
    readonly onDrop: DropSink,
    options: FramingOptions = {},
  ) {
    this.#maxMessage = options.maxMessageBytes ?? 1 << 30;
    this.#maxFrame = options.maxFrameBytes ?? 256 << 10;
    this.#maxTransfers = options.maxTransfers ?? 64;
  }

  /** Bytes of partial messages held. */
  get holding(): number {
    let bytes = 0;
    for (const t of this.#transfers.values()) for (const b of t.buffers) bytes += b.length;
    return bytes;
  }

  push(data: ArrayBuffer): void {
    const frame = new Uint8Array(data);
    if (frame.length < 2) return this.onDrop('malformed', 'frame shorter than its header');
    if (frame.length > this.#maxFrame)
      return this.onDrop('oversized', `frame of ${frame.length} bytes`);
    if (frame[1] !== PROTOCOL_VERSION)
      return this.onDrop('wrong-version', `frame version ${frame[1]}`);
    const view = new DataView(data);
    switch (frame[0]) {
      case SINGLE:
        return this.onMessage(frame.subarray(2), []);
      case START:
        return this.#start(frame, view);
      case DATA:
        return this.#data(frame, view);
      default:
        return this.onDrop('malformed', `frame kind ${frame[0]}`);
    }
  }

  #start(frame: Uint8Array, view: DataView): void {
    if (frame.length < 12) return this.onDrop('malformed', 'short START frame');
    const id = view.getUint32(2);
    const n = view.getUint16(10);
    if (frame.length !== 12 + 4 * n) return this.onDrop('malformed', 'START frame size mismatch');
    const sizes = [view.getUint32(6)];
    for (let i = 1; i <= n; i++) sizes.push(view.getUint32(8 + 4 * i));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (this.#transfers.has(id)) {
      this.#transfers.delete(id);
      this.onDrop('malformed', `transfer ${id} restarted before it ended`);
    }
    if (total > this.#maxMessage || this.#transfers.size >= this.#maxTransfers) {
      this.#refuse(id);
      return this.onDrop(
        'oversized',
        `message of ${total} bytes (limit ${this.#maxMessage}) or too many at once`,
      );
    }
    this.#refused.delete(id);
    const transfer: Incoming = { sizes, buffers: [], segment: 0, offset: 0 };
    this.#transfers.set(id, transfer);
    this.#complete(id, transfer);
  }

  #data(frame: Uint8Array, view: DataView): void {
    if (frame.length <= DATA_HEADER) return this.onDrop('malformed', 'empty DATA frame');
    const id = view.getUint32(2);
    const t = this.#transfers.get(id);
    if (t === undefined) {
      if (!this.#refused.has(id)) this.onDrop('unexpected', `DATA for unknown transfer ${id}`);
      return;
    }
    let at = DATA_HEADER;
    while (at < frame.length) {
      const size = t.sizes[t.segment];
      if (size === undefined) {
        this.#transfers.delete(id);
        return this.onDrop('malformed', `transfer ${id} sent more bytes than it announced`);
      }
      // Each segment's buffer is allocated once, at its exact size, when its first byte comes.
      let buffer = t.buffers[t.segment];
      if (buffer === undefined) {
        buffer = new Uint8Array(size);
        t.buffers.push(buffer);
      }
      const n = Math.min(frame.length - at, size - t.offset);
      buffer.set(frame.subarray(at, at + n), t.offset);
      at += n;
      t.offset += n;
      if (t.offset === size) {
        t.segment++;
        t.offset = 0;
      }
    }
    this.#complete(id, t);
  }

  #complete(id: number, t: Incoming): void {
    // Zero-length segments need no DATA: give them their (empty) buffers now.
    while (t.segment < t.sizes.length && t.sizes[t.segment] === 0) {
      t.buffers.push(new Uint8Array(0));
      t.segment++;
    }
    if (t.segment < t.sizes.length) return;
    this.#transfers.delete(id);
    const [head, ...attachments] = t.buffers;
    this.onMessage(
      head as Uint8Array,
      attachments.map((b) => b.buffer as ArrayBuffer),
    );
  }

  #refuse(id: number): void {
    this.#refused.add(id);
    if (this.#refused.size > 1024) {
      const oldest = this.#refused.values().next().value as number;
      this.#refused.delete(oldest);
    }
  }
}
