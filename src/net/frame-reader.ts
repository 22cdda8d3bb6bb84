import {
  DATA,
  DATA_HEADER,
  type FramingOptions,
  MAX_MESSAGE_BYTES,
  SINGLE,
  START,
} from './framing.ts';
import { type DropReason, PROTOCOL_VERSION } from './protocol.ts';
import type { Allocate } from './warm-buffers.ts';

/** Frames back into messages (the format is in `framing.ts`), every frame checked. */
interface Incoming {
  readonly sizes: readonly number[];
  readonly buffers: Uint8Array[];
  segment: number;
  offset: number;
  /** Buffers asked of the allocator, by segment: {@link WAITING} until one comes. */
  readonly early: (Uint8Array | typeof WAITING | undefined)[];
  /** The current segment's bytes that came before its buffer did, kept until it does. */
  held: Uint8Array[] | undefined;
  /** Bytes of buffers asked of the allocator for it. */
  asked: number;
}

const WAITING = 'waiting';
/**
 * The allocator makes a buffer's memory real before its bytes come. So that a peer cannot have
 * this tab hold more than this for messages it only announced, no more is asked for at once
 * (per link); beyond it, buffers are made as bytes come, as without an allocator.
 */
export const MAX_ASKED_BYTES = 256 << 20;

export type FrameSink = (head: Uint8Array, attachments: ArrayBuffer[]) => void;
export type DropSink = (reason: DropReason, detail: string) => void;

export class FrameReader {
  readonly #transfers = new Map<number, Incoming>();
  /** Transfers refused at START, whose DATA frames are dropped quietly. */
  readonly #refused = new Set<number>();
  readonly #maxMessage: number;
  readonly #maxFrame: number;
  readonly #maxTransfers: number;
  readonly #allocate: Allocate | undefined;
  #streamed = 0;

  constructor(
    readonly onMessage: FrameSink,
    readonly onDrop: DropSink,
    options: FramingOptions = {},
  ) {
    this.#maxMessage = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    this.#maxFrame = options.maxFrameBytes ?? 256 << 10;
    this.#maxTransfers = options.maxTransfers ?? 64;
    this.#allocate = options.allocate;
  }

  /** Bytes of large messages received (DATA frames of accepted transfers): bulk data moving. */
  get streamed(): number {
    return this.#streamed;
  }

  /** Whether a message is partly received. */
  get receiving(): boolean {
    return this.#transfers.size > 0;
  }

  /** Bytes of partial messages held. */
  get holding(): number {
    let bytes = 0;
    for (const t of this.#transfers.values())
      for (const b of [...t.buffers, ...(t.held ?? [])]) bytes += b.length;
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
    const transfer: Incoming = {
      sizes,
      buffers: [],
      segment: 0,
      offset: 0,
      early: [],
      held: undefined,
      asked: 0,
    };
    this.#transfers.set(id, transfer);
    if (this.#allocate !== undefined) this.#ask(id, transfer, this.#allocate);
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
    this.#streamed += frame.length;
    let at = DATA_HEADER;
    while (at < frame.length) {
      const size = t.sizes[t.segment];
      if (size === undefined) {
        this.#transfers.delete(id);
        return this.onDrop('malformed', `transfer ${id} sent more bytes than it announced`);
      }
      const n = Math.min(frame.length - at, size - t.offset);
      this.#write(t, size, frame.subarray(at, at + n));
      at += n;
      t.offset += n;
      if (t.offset === size) {
        // All of it came before the buffer asked for it: go without, rather than wait.
        if (t.held !== undefined) this.#settle(t, new Uint8Array(size));
        t.segment++;
        t.offset = 0;
      }
    }
    this.#complete(id, t);
  }

  /**
   * Bytes of the current segment, at `t.offset`. Its buffer is had once, at its exact size, when
   * its first byte comes: the one asked for at START if it came, else a new one. While the one
   * asked for is on its way, the bytes are held (views of their frames, which a channel that
   * takes an allocator gives fresh, never to reuse).
   */
  #write(t: Incoming, size: number, bytes: Uint8Array): void {
    let buffer = t.buffers[t.segment];
    if (buffer === undefined) {
      const early = t.early[t.segment];
      if (early === WAITING) {
        t.held ??= [];
        t.held.push(bytes);
        return;
      }
      buffer = early ?? new Uint8Array(size);
      t.early[t.segment] = undefined;
      t.buffers.push(buffer);
    }
    buffer.set(bytes, t.offset);
  }

  /** Asks the allocator for each segment's buffer, to have it ready when the bytes come. */
  #ask(id: number, t: Incoming, allocate: Allocate): void {
    let budget = MAX_ASKED_BYTES;
    for (const other of this.#transfers.values()) budget -= other.asked;
    t.sizes.forEach((size, segment) => {
      let asked: Promise<Uint8Array | undefined> | undefined;
      try {
        asked = size > 0 && size <= budget ? allocate(size) : undefined;
      } catch {
        asked = undefined;
      }
      if (asked === undefined) return;
      budget -= size;
      t.asked += size;
      t.early[segment] = WAITING;
      const came = (buffer: Uint8Array | undefined) => {
        if (t.early[segment] !== WAITING || this.#transfers.get(id) !== t) return; // gone without
        // Exactly the segment's bytes, from the start of its own buffer (the attachment is it).
        const fits = buffer?.byteOffset === 0 && buffer.buffer.byteLength === size;
        const ready = fits ? buffer : undefined;
        t.early[segment] = ready;
        if (segment === t.segment && t.held !== undefined)
          this.#settle(t, ready ?? new Uint8Array(size));
      };
      asked.then(came, () => came(undefined));
    });
  }

  /** The current segment's buffer is here: what was held goes into it, from its start. */
  #settle(t: Incoming, buffer: Uint8Array): void {
    t.early[t.segment] = undefined;
    let at = 0;
    for (const bytes of t.held ?? []) {
      buffer.set(bytes, at);
      at += bytes.length;
    }
    t.held = undefined;
    t.buffers.push(buffer);
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
