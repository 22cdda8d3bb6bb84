/**
 * One ordered, reliable, message-oriented pipe to one peer: what an RTCDataChannel is, and
 * what the in-memory transport imitates. Everything above it (framing, handshake, heartbeats)
 * is shared by both transports.
 */
export interface Channel {
  /** Sends one binary message. The bytes are copied before `send` returns. */
  send(data: Uint8Array): void;
  /** Bytes queued but not yet sent (RTCDataChannel.bufferedAmount). */
  readonly bufferedAmount: number;
  /** Calls `listener` whenever `bufferedAmount` falls to `threshold` or below. */
  onDrain(threshold: number, listener: () => void): void;
  onMessage(listener: (data: ArrayBuffer) => void): void;
  /** Called once, when the channel closes from either side. */
  onClose(listener: () => void): void;
  close(): void;
}
