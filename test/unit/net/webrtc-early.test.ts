import { describe, expect, it } from 'vitest';
import { EarlyMessages } from '../../../src/net/webrtc.ts';

/** Enough of an RTCDataChannel for its message events. */
function fakeChannel() {
  const target = new EventTarget();
  const deliver = (data: unknown) => target.dispatchEvent(new MessageEvent('message', { data }));
  return { dc: target as unknown as RTCDataChannel, deliver };
}

const bytes = (...xs: number[]) => new Uint8Array(xs).buffer;

describe('a data channel’s first messages', () => {
  it('are kept until the link listens, then handed over in order, and every later one too', () => {
    const { dc, deliver } = fakeChannel();
    const early = new EarlyMessages(dc);
    // The peer's hello and ready, sent the moment its side opened, before our link exists.
    deliver(bytes(1));
    deliver('not binary'); // only binary messages are Handout's
    deliver(bytes(2));
    const got: number[] = [];
    early.handOver((data) => got.push(new Uint8Array(data)[0] as number));
    expect(got).toEqual([1, 2]);
    deliver(bytes(3));
    expect(got).toEqual([1, 2, 3]); // none twice: the keeper stopped listening
  });
});
