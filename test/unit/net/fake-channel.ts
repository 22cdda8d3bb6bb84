import type { Channel } from '../../../src/net/channel.ts';

/**
 * A channel whose sent frames wait in `sent` until the test delivers them, with a settable
 * bufferedAmount: lets a test watch framing and backpressure step by step.
 */
export class FakeChannel implements Channel {
  readonly lane = 'memory' as const;
  /** The dialled side of a WebRTC channel: speaks only after the peer has. */
  answers = false;
  readonly sent: ArrayBuffer[] = [];
  buffered = 0;
  closed = false;
  #drain: { threshold: number; listener: () => void }[] = [];
  #message: ((data: ArrayBuffer) => void) | undefined;
  #close: (() => void)[] = [];

  send(data: Uint8Array): void {
    if (this.closed) throw new Error('closed');
    this.sent.push(data.slice().buffer as ArrayBuffer);
    this.buffered += data.byteLength;
  }

  get bufferedAmount(): number {
    return this.buffered;
  }

  /** The network took everything queued. */
  drain(): void {
    this.buffered = 0;
    for (const d of this.#drain) d.listener();
  }

  onDrain(threshold: number, listener: () => void): void {
    this.#drain.push({ threshold, listener });
  }

  onMessage(listener: (data: ArrayBuffer) => void): void {
    this.#message = listener;
  }

  onClose(listener: () => void): void {
    this.#close.push(listener);
  }

  receive(data: ArrayBuffer): void {
    this.#message?.(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.#close) l();
  }
}
