import type { FramingOptions } from './framing.ts';

/** The kind of pipe under a link: a MessagePort between tabs of one browser, or WebRTC. */
export type Lane = 'same-browser' | 'webrtc' | 'memory';

/**
 * One ordered, reliable, message-oriented pipe to one peer: an RTCDataChannel, a MessagePort
 * between tabs of one browser, or the in-memory imitation. Everything above it (framing,
 * handshake, heartbeats) is shared by all of them.
 */
export interface Channel {
  readonly lane: Lane;
  /** Framing this pipe carries best (a MessagePort takes 768 KiB frames); over the link's own. */
  readonly framing?: FramingOptions | undefined;
  /**
   * `send` may take a Uint8Array's whole buffer rather than copy it (a MessagePort transfers
   * it): the writer then hands it fresh frames and never touches them again.
   */
  readonly takes?: boolean | undefined;
  /**
   * This side was dialled (WebRTC channels and lanes say so) and speaks only once the dialler
   * has: its first message could leave before the dialler's side is open and be lost (seen
   * between Chromium tabs: a hello lost, the ready after it arriving, the handshake refused).
   * When two peers dialled each other at once, it also says which of the two channels both keep.
   */
  readonly answers?: boolean | undefined;
  /** Sends one binary message. The bytes are copied (or taken, see `takes`) before it returns. */
  send(data: Uint8Array): void;
  /** Bytes queued but not yet sent (RTCDataChannel.bufferedAmount). */
  readonly bufferedAmount: number;
  /** Calls `listener` whenever `bufferedAmount` falls to `threshold` or below. */
  onDrain(threshold: number, listener: () => void): void;
  onMessage(listener: (data: ArrayBuffer) => void): void;
  /** Called once, when the channel closes from either side. */
  onClose(listener: () => void): void;
  /** Closes it; `reason` tells a pipe that can say why (a lane that broke is not tried again). */
  close(reason?: string): void;
}

/** The channel, counting in `traffic.sent` the bytes handed to it. */
export function counting(channel: Channel, traffic: { sent: number }): Channel {
  return {
    lane: channel.lane,
    takes: channel.takes,
    send(data) {
      traffic.sent += data.byteLength;
      channel.send(data);
    },
    get bufferedAmount() {
      return channel.bufferedAmount;
    },
    onDrain: (threshold, listener) => channel.onDrain(threshold, listener),
    onMessage: (listener) => channel.onMessage(listener),
    onClose: (listener) => channel.onClose(listener),
    close: (reason) => channel.close(reason),
  };
}
