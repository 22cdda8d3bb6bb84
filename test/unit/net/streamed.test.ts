import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../src/net/channel.ts';
import { decode, encode, Streamed } from '../../../src/net/codec.ts';
import { FrameReader } from '../../../src/net/frame-reader.ts';
import { FrameWriter } from '../../../src/net/framing.ts';
import { FakeChannel } from './fake-channel.ts';

/** A writer and reader joined by a fake channel, which delivers when asked. */
function pipe(takes = false) {
  const channel = new FakeChannel();
  if (takes) (channel as { takes?: boolean }).takes = true;
  const writer = new FrameWriter(channel as Channel, {
    chunkBytes: 1024,
    highWater: 4096,
    lowWater: 0,
  });
  const received: unknown[] = [];
  const drops: string[] = [];
  const reader = new FrameReader(
    (head, atts) => received.push(decode(head, atts)),
    (reason) => drops.push(reason),
  );
  /** Delivers and drains until nothing moves for a few turns (chunks come asynchronously). */
  const flush = async () => {
    for (let idle = 0; idle < 5; ) {
      const frames = channel.sent.splice(0);
      for (const frame of frames) {
        expect(frame.byteLength).toBeLessThanOrEqual(1024);
        reader.push(frame);
      }
      channel.drain();
      idle = frames.length === 0 ? idle + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  };
  return { writer, received, drops, flush };
}

/** `total` bytes numbered i % 251, in chunks of the sizes given (cycling), read when asked. */
async function* numbered(total: number, sizes: number[], pulls: number[] = []) {
  let at = 0;
  for (let i = 0; at < total; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, total - at);
    pulls.push(at);
    await new Promise((resolve) => setTimeout(resolve, 0));
    yield new Uint8Array(n).map((_, j) => (at + j) % 251);
    at += n;
  }
}

const intact = (bytes: Uint8Array) => bytes.every((x, i) => x === i % 251);

describe.each([false, true])('a streamed binary (frames taken: %s)', (takes) => {
  it('arrives as an ordinary typed array, its chunks pulled as the channel drains', async () => {
    const { writer, received, flush } = pipe(takes);
    const pulls: number[] = [];
    const body = new Streamed(Uint8Array, 50_000, numbered(50_000, [3000, 700, 9000], pulls));
    writer.write(encode({ id: 1, body, small: new Uint8Array(10) }));
    writer.write(encode('after'));
    expect(pulls.length).toBeLessThanOrEqual(1); // nothing read ahead of the channel
    await flush();
    // A small message goes first; the big one completes after it.
    expect(received).toHaveLength(2);
    expect(received[0]).toBe('after');
    const message = received[1] as { id: number; body: Uint8Array };
    expect(message.body).toBeInstanceOf(Uint8Array);
    expect(message.body.length).toBe(50_000);
    expect(intact(message.body)).toBe(true);
  });

  it('drops a message whose source fails or gives other than its size; later ones go on', async () => {
    const { writer, received, flush } = pipe(takes);
    async function* failing() {
      yield new Uint8Array(2000);
      throw new Error('a part is missing');
    }
    writer.write(encode({ body: new Streamed(Float64Array, 8000, failing()) }));
    writer.write(encode({ body: new Streamed(Uint8Array, 100, numbered(5000, [5000])) }));
    writer.write(encode('still here'));
    await flush();
    expect(received).toEqual(['still here']);
    expect(writer.pending).toBe(0);
  });
});
