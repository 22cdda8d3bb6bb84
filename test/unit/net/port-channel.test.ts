import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import type { Channel } from '../../../src/net/channel.ts';
import { FrameReader } from '../../../src/net/frame-reader.ts';
import { FrameWriter } from '../../../src/net/framing.ts';
import { portChannel } from '../../../src/net/port-channel.ts';

/** Two ends of one lane, as two tabs get them from the broker (Node's MessagePorts here). */
function lane() {
  const { port1, port2 } = new MessageChannel();
  const reasons: { a: string[]; b: string[] } = { a: [], b: [] };
  const a = portChannel(port1 as unknown as MessagePort, 'session-b', (r) => reasons.a.push(r));
  const b = portChannel(port2 as unknown as MessagePort, 'session-a', (r) => reasons.b.push(r));
  return { a, b, reasons };
}

function received(channel: Channel, count: number): Promise<ArrayBuffer[]> {
  const got: ArrayBuffer[] = [];
  return new Promise((resolve) =>
    channel.onMessage((data) => {
      got.push(data);
      if (got.length === count) resolve(got);
    }),
  );
}

const closed = (channel: Channel) => new Promise<void>((resolve) => channel.onClose(resolve));

describe('portChannel (the same-browser lane)', () => {
  it('delivers frames in order, small ones copied and large ones handed over', async () => {
    const { a, b } = lane();
    const small = new Uint8Array([1, 2, 3]);
    const large = new Uint8Array(64 << 10).fill(9);
    const part = new Uint8Array(32).fill(5).subarray(8, 16); // a view into a larger buffer
    const arriving = received(b, 3);
    a.send(small);
    a.send(large);
    a.send(part);
    const [one, two, three] = await arriving;
    expect([...new Uint8Array(one as ArrayBuffer)]).toEqual([1, 2, 3]);
    expect((two as ArrayBuffer).byteLength).toBe(64 << 10);
    expect(new Uint8Array(two as ArrayBuffer)[100]).toBe(9);
    expect((three as ArrayBuffer).byteLength).toBe(8); // only the view, not its whole buffer
    expect(small.byteLength).toBe(3); // small frames are cloned: the caller's stays usable
    expect(large.byteLength).toBe(0); // large ones are transferred (`takes`)
    expect(a.takes).toBe(true);
    a.close();
  });

  it('counts what is unacknowledged as bufferedAmount and says when it drains', async () => {
    const { a, b } = lane();
    const drained = new Promise<number>((resolve) => a.onDrain(0, () => resolve(a.bufferedAmount)));
    const arriving = received(b, 4);
    for (let i = 0; i < 4; i++) a.send(new Uint8Array(256 << 10));
    expect(a.bufferedAmount).toBe(1 << 20);
    await arriving;
    expect(await drained).toBe(0); // acknowledged every 512 KiB: all of it by now
    a.close();
  });

  it('acknowledges the last bytes of a burst a moment later: a quiet lane has nothing buffered', async () => {
    const { a, b } = lane();
    const arriving = received(b, 2);
    a.send(new Uint8Array(100)); // cloned
    a.send(new Uint8Array(300 << 10)); // handed over; 300 KiB in all, under the 512 KiB step
    await arriving;
    expect(a.bufferedAmount).toBeGreaterThan(0); // not acknowledged on arrival
    await vi.waitFor(() => expect(a.bufferedAmount).toBe(0));
    a.close();
  });

  it('closes both ends with the reason when one side closes, and sends nothing after', async () => {
    const { a, b, reasons } = lane();
    const bClosed = closed(b);
    a.close('done here');
    await bClosed;
    expect(reasons.a).toEqual(['done here']);
    expect(reasons.b).toEqual(['peer closed the lane: done here']);
    a.send(new Uint8Array([1])); // a no-op, not a throw
    expect(a.bufferedAmount).toBe(0);
  });

  it('carries the link framing: a 3 MiB message arrives whole in 768 KiB frames', async () => {
    const { a, b } = lane();
    const writer = new FrameWriter(a, a.framing);
    const payload = new Uint8Array(3 << 20).map((_, i) => i % 251);
    const frames = received(b, 6); // START and five DATA frames (head + 3 MiB + headers)
    writer.write({ head: new Uint8Array([7]), attachments: [payload] });
    const got = await frames;
    expect(Math.max(...got.map((f) => f.byteLength))).toBe(768 << 10);
    expect(payload[12345]).toBe(12345 % 251); // the sender's value is untouched
    a.close();
  });

  it("takes the 1 MiB frames of an earlier version's lane", async () => {
    const { a, b } = lane();
    const writer = new FrameWriter(a, { ...a.framing, chunkBytes: 1 << 20 });
    const payload = new Uint8Array(3 << 20).map((_, i) => i % 251);
    const whole = new Promise<ArrayBuffer[]>((resolve, reject) => {
      const reader = new FrameReader(
        (_head, attachments) => resolve(attachments),
        (reason, detail) => reject(new Error(`${reason}: ${detail}`)),
        b.framing,
      );
      b.onMessage((data) => reader.push(data));
    });
    writer.write({ head: new Uint8Array([7]), attachments: [payload] });
    const [got] = await whole;
    expect(Buffer.from(got as ArrayBuffer).equals(payload)).toBe(true);
    a.close();
  });
});
