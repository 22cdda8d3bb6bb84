import type { Channel } from './channel.ts';
import { webLocks } from './locks.ts';
import { warmBuffer } from './warm-buffers.ts';

/** The Web Lock a node holds for its whole life; peers in its browser wait on it. */
export const livenessLock = (session: string) => `handout:live:${session}`;

/**
 * Frames of 768 KiB: a MessagePort moves whole buffers and needs no 64 KiB chunks. Not 1 MiB:
 * a buffer past 1 MiB gets fresh pages from the system each time (Chromium maps such buffers on
 * their own), and touching fresh pages costs more than copying the bytes: 64 MiB moved at about
 * 140 MB/s in 768 KiB frames, 125 MB/s in 1 MiB ones (BENCHMARKS.md, "The lane's frame size").
 * Frames of up to 1 MiB are accepted, as earlier versions sent them.
 */
const FRAMING = {
  chunkBytes: 768 << 10,
  maxFrameBytes: (1 << 20) + 64,
  highWater: 8 << 20,
  lowWater: 2 << 20,
  // Large binaries come into buffers a helper Worker made ready (the frames here are each a
  // fresh, transferred buffer, so they can be held until it does).
  allocate: warmBuffer,
} as const;
/**
 * The receiver acknowledges every this many bytes. Well under the low water mark, so a sender
 * waiting for a drain always gets one; small messages are not acknowledged one by one (a
 * postMessage costs more than the message).
 */
const ACK_BYTES = 512 << 10;
/**
 * What is left below {@link ACK_BYTES} is acknowledged this long after it came, so a lane that
 * went quiet shows nothing buffered (else the last bytes of every burst would count as still
 * going out: the link busy for good, never retired, its `bye` held back).
 */
const ACK_AFTER_MS = 100;
/** Frames this small are cloned: transferring a buffer costs more than copying a few bytes. */
const CLONE_BYTES = 16 << 10;

/** Why a lane closed when its peer's liveness lock was released: the tab is gone. */
export const TAB_GONE = 'the tab closed';

/**
 * A {@link Channel} over a MessagePort to a tab of the same browser. On the port go frames
 * (ArrayBuffers, the large ones transferred), acknowledgements (a number: bytes taken so far,
 * every {@link ACK_BYTES}, and what is left {@link ACK_AFTER_MS} later), which give
 * `bufferedAmount` and backpressure as an RTCDataChannel has them, and `{ close }` when one side
 * closes. A MessagePort has no close event: the peer's liveness lock says when its tab is gone,
 * closed, crashed or reloaded, within a moment.
 */
export function portChannel(
  port: MessagePort,
  peerSession: string,
  /** Told once, with the reason, when the channel closes from either side. */
  ended: (reason: string) => void,
  /** The peer asked the broker for this lane (see `Channel.answers`). */
  answers = false,
): Channel {
  let sent = 0;
  let acked = 0;
  let received = 0;
  let ackedOut = 0;
  let closed = false;
  const drains: { threshold: number; listener: () => void }[] = [];
  const messages: ((data: ArrayBuffer) => void)[] = [];
  const closes: (() => void)[] = [];
  const stop = new AbortController();
  let ackLater: ReturnType<typeof setTimeout> | undefined;
  const ack = () => {
    clearTimeout(ackLater);
    ackLater = undefined;
    if (closed || received === ackedOut) return;
    ackedOut = received;
    port.postMessage(received);
  };

  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(ackLater);
    stop.abort();
    port.onmessage = null;
    port.close();
    ended(reason);
    for (const listener of closes.splice(0)) listener();
  };
  port.onmessage = (event: MessageEvent) => {
    const data: unknown = event.data;
    if (data instanceof ArrayBuffer) {
      received += data.byteLength;
      for (const listener of messages) listener(data);
      if (received - ackedOut >= ACK_BYTES) ack();
      else ackLater ??= setTimeout(ack, ACK_AFTER_MS);
    } else if (typeof data === 'number') {
      const before = sent - acked;
      if (data > acked && data <= sent) acked = data;
      const after = sent - acked;
      for (const d of drains) if (before > d.threshold && after <= d.threshold) d.listener();
    } else if (typeof data === 'object' && data !== null && 'close' in data) {
      finish(`peer closed the lane: ${String((data as { close: unknown }).close)}`);
    }
  };
  port.start();
  webLocks()
    ?.request(livenessLock(peerSession), { signal: stop.signal }, () => finish(TAB_GONE))
    .catch(() => undefined); // aborted: this side closed first

  const channel: Channel = {
    lane: 'same-browser',
    framing: FRAMING,
    takes: true,
    answers,
    send(data) {
      if (closed) return;
      // A whole buffer is handed over as it is (the writer gives fresh frames); a part of one
      // is copied first, as cloning a view would clone all of its buffer.
      const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
      const copy = whole ? data : data.slice();
      const bytes = copy.byteLength; // read before a transfer detaches the buffer
      try {
        if (copy.byteLength < CLONE_BYTES) port.postMessage(copy.buffer);
        else port.postMessage(copy.buffer, [copy.buffer]);
      } catch (error) {
        // The lane broke: what was in flight fails as with a lost peer, and the peer is
        // reached over WebRTC from now on.
        channel.close(`send failed: ${String(error)}`);
        return;
      }
      sent += bytes;
    },
    get bufferedAmount() {
      return sent - acked;
    },
    onDrain(threshold, listener) {
      drains.push({ threshold, listener });
    },
    onMessage(listener) {
      messages.push(listener);
    },
    onClose(listener) {
      if (closed) queueMicrotask(listener);
      else closes.push(listener);
    },
    close(reason = 'closed') {
      if (closed) return;
      try {
        port.postMessage({ close: reason });
      } catch {
        // the port cannot carry even that: the peer learns from its heartbeat
      }
      finish(reason);
    },
  };
  return channel;
}
