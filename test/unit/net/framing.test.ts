import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../src/net/codec.ts';
import { FrameReader } from '../../../src/net/frame-reader.ts';
import { FrameWriter, framingFor, WEBRTC_CHUNK_BYTES } from '../../../src/net/framing.ts';
import type { DropReason } from '../../../src/net/protocol.ts';
import { FakeChannel } from './fake-channel.ts';

function pipe(options = {}, writerOptions = {}) {
  const channel = new FakeChannel();
  const writer = new FrameWriter(channel, {
    chunkBytes: 1024,
    highWater: 8192,
    lowWater: 0,
    ...options,
    ...writerOptions,
  });
  const received: unknown[] = [];
  const drops: DropReason[] = [];
  const reader = new FrameReader(
    (head, atts) => received.push(decode(head, atts)),
    (reason) => drops.push(reason),
    { maxMessageBytes: 1 << 20, ...options },
  );
  /** Delivers everything sent so far, letting the writer refill until it has no more. */
  const flush = () => {
    while (channel.sent.length > 0) {
      for (const frame of channel.sent.splice(0)) {
        expect(frame.byteLength).toBeLessThanOrEqual(1024);
        reader.push(frame);
      }
      channel.drain();
    }
  };
  return { channel, writer, reader, received, drops, flush };
}

describe('framing', () => {
  it('sends a small message as one frame', () => {
    const { channel, writer, received, flush } = pipe();
    writer.write(encode({ hello: 'world' }));
    expect(channel.sent).toHaveLength(1);
    flush();
    expect(received).toEqual([{ hello: 'world' }]);
  });

  it('chunks large messages, never queues past the high-water mark, and reassembles them', () => {
    const { channel, writer, received, flush } = pipe();
    const payload = new Uint8Array(50_000).map((_, i) => (i * 7) % 256);
    writer.write(encode({ payload, text: 'x'.repeat(3000) }, { attachmentBytes: 1000 }));
    expect(channel.buffered).toBeLessThanOrEqual(8192 + 1024);
    expect(writer.pending).toBeGreaterThan(0);
    flush();
    expect(received).toEqual([{ payload, text: 'x'.repeat(3000) }]);
    expect(writer.pending).toBe(0);
  });

  it('interleaves transfers and lets small messages overtake large ones', () => {
    const { channel, writer, reader, received } = pipe();
    const a = new Uint8Array(20_000).fill(1);
    const b = new Uint8Array(20_000).fill(2);
    writer.write(encode({ a }, { attachmentBytes: 100 }));
    writer.write(encode({ b }, { attachmentBytes: 100 }));
    writer.write(encode('urgent'));
    const order: unknown[] = [];
    while (channel.sent.length > 0) {
      for (const frame of channel.sent.splice(0)) reader.push(frame);
      order.push(...received.splice(0));
      channel.drain();
    }
    expect(order[0]).toBe('urgent');
    expect(order.slice(1)).toEqual([{ a }, { b }]);
  });

  it('interleaves frames of different transfers on the wire', () => {
    const { channel, writer } = pipe({ highWater: 1 << 30 });
    channel.buffered = 2 ** 31; // the channel is full: both transfers queue
    writer.write(encode(new Uint8Array(5000), { attachmentBytes: 100 }));
    writer.write(encode(new Uint8Array(5000), { attachmentBytes: 100 }));
    channel.drain();
    const ids = channel.sent
      .map((f) => new DataView(f))
      .filter((v) => v.getUint8(0) === 3)
      .map((v) => v.getUint32(2));
    expect(ids.slice(0, 4)).toEqual([ids[0], ids[1], ids[0], ids[1]]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('refuses a message larger than the limit without allocating it, and stays usable', () => {
    // A sender whose limit is larger than the receiver's (an honest one stops at its own).
    const { writer, received, drops, flush } = pipe(
      { maxMessageBytes: 10_000 },
      { maxMessageBytes: 1 << 20 },
    );
    writer.write(encode(new Uint8Array(20_000), { attachmentBytes: 100 }));
    writer.write(encode('after'));
    flush();
    expect(drops).toEqual(['oversized']);
    expect(received).toEqual(['after']);
  });

  it('will not send a message larger than its limit: CodecError, and the writer goes on', () => {
    const { writer, received, drops, flush } = pipe({ maxMessageBytes: 10_000 });
    expect(() => writer.write(encode(new Uint8Array(20_000), { attachmentBytes: 100 }))).toThrow(
      /larger than the .* one message may carry/,
    );
    writer.write(encode('after'));
    flush();
    expect(drops).toEqual([]);
    expect(received).toEqual(['after']);
  });

  it('drops malformed, unknown, wrong-version and oversized frames', () => {
    const { reader, drops, received } = pipe({ maxFrameBytes: 2048 });
    reader.push(new Uint8Array([1]).buffer);
    reader.push(new Uint8Array([9, 1, 0]).buffer);
    reader.push(new Uint8Array([1, 99, 0]).buffer);
    reader.push(new Uint8Array(4096).fill(1).buffer);
    reader.push(new Uint8Array([3, 1, 0, 0, 0, 42, 7]).buffer);
    reader.push(new Uint8Array([2, 1, 0, 0]).buffer);
    expect(drops).toEqual([
      'malformed',
      'malformed',
      'wrong-version',
      'oversized',
      'unexpected',
      'malformed',
    ]);
    expect(received).toEqual([]);
  });

  it('drops a transfer that sends more than it announced', () => {
    const { reader, drops } = pipe();
    const start = new Uint8Array(12);
    const view = new DataView(start.buffer);
    start.set([2, 1]);
    view.setUint32(2, 5);
    view.setUint32(6, 2);
    reader.push(start.buffer);
    reader.push(new Uint8Array([3, 1, 0, 0, 0, 5, 1, 2, 3, 4]).buffer);
    expect(drops).toEqual(['malformed']);
  });

  it('never sends a frame larger than the peer takes: 64 KiB frames, less where it says less', () => {
    // What the browsers negotiate: Chromium 256 KiB, Firefox to Firefox 1 GiB, none said: 64 KiB.
    for (const max of [262_144, 1_073_741_823, 65_536, undefined, 0, Number.NaN])
      expect(framingFor(max)).toBeUndefined();
    expect(framingFor(16_384)).toEqual({ chunkBytes: 16_384 });
    // A 200 KiB message to a peer that takes 16 KiB goes in frames of at most 16 KiB.
    const channel = new FakeChannel();
    const writer = new FrameWriter(channel, { ...framingFor(16_384), lowWater: 0 });
    const got: unknown[] = [];
    const reader = new FrameReader(
      (head, atts) => got.push(decode(head, atts)),
      () => undefined,
    );
    const payload = new Uint8Array(200 << 10).map((_, i) => i % 253);
    writer.write(encode({ payload }));
    while (channel.sent.length > 0) {
      for (const frame of channel.sent.splice(0)) {
        expect(frame.byteLength).toBeLessThanOrEqual(16_384);
        reader.push(frame);
      }
      channel.drain();
    }
    expect(got).toEqual([{ payload }]);
    expect(WEBRTC_CHUNK_BYTES).toBe(65_536);
  });
});
