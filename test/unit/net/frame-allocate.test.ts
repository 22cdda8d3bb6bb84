import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../../src/net/codec.ts';
import { FrameReader, MAX_ASKED_BYTES } from '../../../src/net/frame-reader.ts';
import { FrameWriter, START } from '../../../src/net/framing.ts';
import { PROTOCOL_VERSION } from '../../../src/net/protocol.ts';
import type { Allocate } from '../../../src/net/warm-buffers.ts';
import { FakeChannel } from './fake-channel.ts';

/** A buffer asked of the allocator, resolved when the test says. */
interface Asked {
  readonly bytes: number;
  give(buffer: Uint8Array | undefined): void;
  fail(): void;
}

/** The frames of `value`, not yet delivered, and a reader with `allocate`. */
function setup(value: unknown, allocate: Allocate) {
  const channel = new FakeChannel();
  const writer = new FrameWriter(channel, { chunkBytes: 1024, highWater: 1 << 30 });
  writer.write(encode(value, { attachmentBytes: 1000 }));
  const received: { value: unknown; attachments: ArrayBuffer[] }[] = [];
  const drops: string[] = [];
  const reader = new FrameReader(
    (head, attachments) => received.push({ value: decode(head, attachments), attachments }),
    (reason, detail) => drops.push(`${reason}: ${detail}`),
    { maxMessageBytes: 1 << 20, allocate },
  );
  const frames = channel.sent.splice(0);
  const deliver = (n = frames.length) => {
    for (const frame of frames.splice(0, n)) reader.push(frame);
  };
  return { reader, received, drops, frames, deliver };
}

/** An allocator that hands out deferred buffers for binaries of at least 10,000 bytes. */
function deferred() {
  const asked: Asked[] = [];
  const allocate: Allocate = (bytes) => {
    if (bytes < 10_000) return undefined;
    return new Promise((resolve, reject) => {
      asked.push({ bytes, give: resolve, fail: () => reject(new Error('no memory')) });
    });
  };
  return { asked, allocate };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * seed) % 251);

describe('FrameReader with an allocator (the lane: buffers a Worker made ready)', () => {
  it('puts a large binary into the buffer that came before its bytes', async () => {
    const payload = bytes(50_000, 7);
    const { asked, allocate } = deferred();
    const { received, deliver } = setup({ payload }, allocate);
    deliver(1); // START: the reader asks for the attachment's buffer, not the head's
    expect(asked.map((a) => a.bytes)).toEqual([50_000]);
    const ready = new Uint8Array(50_000);
    asked[0]?.give(ready);
    await settle();
    deliver();
    expect(received[0]?.value).toEqual({ payload });
    expect(received[0]?.attachments[0]).toBe(ready.buffer); // that buffer, no other
  });

  it('holds the bytes that come first and copies them in when the buffer does', async () => {
    const payload = bytes(50_000, 13);
    const { asked, allocate } = deferred();
    const { reader, received, deliver, frames } = setup({ payload }, allocate);
    deliver(Math.floor(frames.length / 2));
    expect(reader.holding).toBeGreaterThan(20_000);
    const ready = new Uint8Array(50_000);
    asked[0]?.give(ready);
    await settle();
    deliver();
    expect(received[0]?.value).toEqual({ payload });
    expect(received[0]?.attachments[0]).toBe(ready.buffer);
    expect(reader.holding).toBe(0);
  });

  it('goes without a buffer still on its way when the last byte comes, and ignores it after', async () => {
    const payload = bytes(50_000, 3);
    const { asked, allocate } = deferred();
    const { reader, received, deliver } = setup({ payload }, allocate);
    deliver();
    expect(received[0]?.value).toEqual({ payload }); // it did not wait
    const late = new Uint8Array(50_000).fill(9);
    asked[0]?.give(late);
    await settle();
    expect(received).toHaveLength(1);
    expect(received[0]?.attachments[0]).not.toBe(late.buffer);
    expect(received[0]?.value).toEqual({ payload });
    expect(reader.receiving).toBe(false);
  });

  it('makes its own buffer when the one it got is wrong, refused or failed, or asking throws', async () => {
    const wrong = new Uint8Array(40_000);
    const answers: ((a: Asked) => void)[] = [
      (a) => a.give(wrong), // the wrong size
      (a) => a.give(new Uint8Array(60_000).subarray(10_000)), // the right size, not from 0
      (a) => a.give(new Uint8Array(60_000).subarray(0, 50_000)), // a part of a larger buffer
      (a) => a.give(undefined), // the worker could not
      (a) => a.fail(),
    ];
    for (const answer of answers) {
      const payload = bytes(50_000, 11);
      const { asked, allocate } = deferred();
      const { received, deliver, frames } = setup({ payload }, allocate);
      deliver(Math.floor(frames.length / 3));
      answer(asked[0] as Asked);
      await settle();
      deliver();
      expect(received[0]?.value).toEqual({ payload });
      expect(received[0]?.attachments[0]).not.toBe(wrong.buffer);
    }
    const throwing: Allocate = () => {
      throw new Error('no Worker');
    };
    const payload = bytes(20_000, 5);
    const { received, deliver } = setup({ payload }, throwing);
    deliver();
    expect(received[0]?.value).toEqual({ payload });
  });

  it('gives several binaries of one message each its own buffer, across frame boundaries', async () => {
    const a = bytes(12_345, 3); // frames carry the end of one and the start of the next
    const b = bytes(23_456, 5);
    const small = bytes(1_500, 7); // an attachment, but too small to ask for
    const { asked, allocate } = deferred();
    const { reader, received, deliver } = setup({ a, small, b }, allocate);
    deliver(1);
    expect(asked.map((x) => x.bytes).sort()).toEqual([12_345, 23_456]);
    const forB = new Uint8Array(23_456);
    asked.find((x) => x.bytes === 23_456)?.give(forB);
    deliver(6); // the head and a part of a, held: its buffer is not here
    await settle();
    expect(reader.holding).toBeGreaterThan(3000);
    const forA = new Uint8Array(12_345);
    asked.find((x) => x.bytes === 12_345)?.give(forA);
    await settle();
    deliver();
    expect(received[0]?.value).toEqual({ a, small, b });
    expect(received[0]?.attachments).toContain(forA.buffer);
    expect(received[0]?.attachments).toContain(forB.buffer);
  });

  it('asks for at most MAX_ASKED_BYTES ahead of the bytes on one link', () => {
    const asked: number[] = [];
    const allocate: Allocate = (bytes) => {
      if (bytes < 10_000) return undefined;
      asked.push(bytes);
      return new Promise(() => undefined); // a buffer that never comes
    };
    const drops: string[] = [];
    const reader = new FrameReader(
      () => undefined,
      (reason) => drops.push(reason),
      { maxMessageBytes: 1 << 30, allocate },
    );
    /** A START frame announcing one attachment of `bytes` (no DATA follows: a peer that stalls). */
    const start = (id: number, bytes: number) => {
      const frame = new Uint8Array(16);
      const view = new DataView(frame.buffer);
      frame[0] = START;
      frame[1] = PROTOCOL_VERSION;
      view.setUint32(2, id);
      view.setUint32(6, 10);
      view.setUint16(10, 1);
      view.setUint32(12, bytes);
      return frame.buffer;
    };
    const quarter = MAX_ASKED_BYTES / 4;
    for (let id = 1; id <= 6; id++) reader.push(start(id, quarter));
    expect(drops).toEqual([]);
    expect(asked).toEqual([quarter, quarter, quarter, quarter]); // then no more
  });

  it('lets a buffer for a transfer that was dropped go, and the next message is whole', async () => {
    const { asked, allocate } = deferred();
    const first = setup({ payload: bytes(50_000, 3) }, allocate);
    const second = setup({ payload: bytes(30_000, 5) }, allocate);
    // The same reader gets the start of the first, then a restart of that transfer id.
    const reader = first.reader;
    for (const frame of first.frames.slice(0, 5)) reader.push(frame);
    for (const frame of second.frames) reader.push(frame);
    expect(first.drops).toEqual(['malformed: transfer 1 restarted before it ended']);
    asked[0]?.give(new Uint8Array(50_000)); // the dropped transfer's buffer, late
    await settle();
    expect(first.received.map((r) => r.value)).toEqual([{ payload: bytes(30_000, 5) }]);
    expect(reader.receiving).toBe(false);
  });
});
