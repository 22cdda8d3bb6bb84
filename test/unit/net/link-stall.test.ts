import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Link } from '../../../src/net/link.ts';
import { linkPair } from './link-pair.ts';

/**
 * Over WebRTC a lost packet stalls the whole ordered channel for an SCTP retransmission
 * timeout, and the timeout doubles when the retransmission is lost too: between two loaded
 * Chromium tabs, a 32 MiB transfer paused 1.2 s at the same point run after run, and two lost in
 * a row outlast the heartbeat's 3.5 s. The peer's pings wait behind its data all that while.
 */
const links: Link[] = [];
afterEach(() => {
  for (const link of links.splice(0)) link.close('test over', false);
  vi.useRealTimers();
});

function pair() {
  const { a, b, ca, cb, log } = linkPair((link) => links.push(link));
  /** `ms` of traffic, a frame crossing every 10 ms; a's side stalls (holds its frames) if told. */
  const run = async (ms: number, stalled = false) => {
    for (let t = 0; t < ms; t += 10) {
      if (!stalled) {
        for (const f of ca.sent.splice(0)) if (!cb.closed) cb.receive(f);
        ca.drain();
      }
      for (const f of cb.sent.splice(0)) if (!ca.closed) ca.receive(f);
      cb.drain();
      await vi.advanceTimersByTimeAsync(10);
    }
  };
  /** a sends b 1 MiB; b gets its first frames, then a's channel stalls. */
  const stallMidTransfer = async () => {
    await run(100);
    expect([a.state, b.state]).toEqual(['ready', 'ready']);
    a.send({ v: 1, t: 'msg', topic: 't', body: new Uint8Array(1 << 20) });
    for (const f of ca.sent.splice(0, 3)) cb.receive(f);
    expect(b.busy).toBe(true); // half received
  };
  return { run, stallMidTransfer, log };
}

describe('a link whose channel stalls mid-transfer', () => {
  it('waits one more deadline before it calls the peer gone, and the value arrives', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const { run, stallMidTransfer, log } = pair();
    await stallMidTransfer();
    await run(5000, true); // two retransmission timeouts: past 3.5 s without a word from a
    expect(log).toEqual([]);
    await run(200);
    expect(log).toEqual(['b got msg']);
  });

  it('calls a peer silent for two deadlines gone (one that hung mid-transfer)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const { run, stallMidTransfer, log } = pair();
    await stallMidTransfer();
    await run(6800, true);
    expect(log).toEqual([]);
    await run(400, true);
    expect(log).toContain('b: no heartbeat');
  });
});
