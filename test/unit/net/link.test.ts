import { afterEach, describe, expect, it, vi } from 'vitest';
import { importSecret } from '../../../src/net/auth.ts';
import { encode } from '../../../src/net/codec.ts';
import { Link, type LinkOptions } from '../../../src/net/link.ts';
import type { DropReason } from '../../../src/net/protocol.ts';
import type { Resources } from '../../../src/resources.ts';
import { FakeChannel } from './fake-channel.ts';
import { linkPair } from './link-pair.ts';

const links: Link[] = [];
afterEach(() => {
  for (const link of links.splice(0)) link.close('test over', false);
});

/** Two links joined by fake channels that deliver on demand (`pump`). */
async function linked(
  secrets: [string | undefined, string | undefined],
  room = 'r',
  bAnswers = false,
) {
  const [ca, cb] = [new FakeChannel(), new FakeChannel()];
  cb.answers = bAnswers;
  const log = {
    a: [] as string[],
    b: [] as string[],
    dropsA: [] as DropReason[],
    dropsB: [] as DropReason[],
  };
  const make = async (
    self: string,
    peer: string,
    ch: FakeChannel,
    secret: string | undefined,
    out: string[],
    drops: DropReason[],
  ) => {
    const options: LinkOptions = {
      selfId: self,
      session: `${self}-session`,
      room,
      capabilities: { cpu: self === 'a' ? 1 : 2 },
      secret: secret === undefined ? undefined : await importSecret(secret),
    };
    const link = new Link(ch, peer, options, {
      ready: (caps: Resources) => out.push(`ready ${JSON.stringify(caps)}`),
      message: (m) => out.push(`${m.t}:${m.t === 'msg' ? String(m.body) : ''}`),
      dropped: (reason) => drops.push(reason),
      closed: (reason) => out.push(`closed: ${reason}`),
    });
    links.push(link);
    return link;
  };
  const a = await make('a', 'b', ca, secrets[0], log.a, log.dropsA);
  const b = await make('b', 'a', cb, secrets[1], log.b, log.dropsB);
  /** Moves frames across until both sides are quiet (handshakes verify asynchronously). */
  const pump = async () => {
    for (let i = 0; i < 20; i++) {
      for (const f of ca.sent.splice(0)) if (!cb.closed) cb.receive(f);
      for (const f of cb.sent.splice(0)) if (!ca.closed) ca.receive(f);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { a, b, ca, cb, log, pump };
}

describe('link handshake', () => {
  it('without a secret: hello, ready, then messages', async () => {
    const { a, b, log, pump } = await linked([undefined, undefined]);
    await pump();
    expect(a.state).toBe('ready');
    expect(log.a).toContain('ready {"cpu":2}');
    expect(log.b).toContain('ready {"cpu":1}');
    b.send({ v: 1, t: 'msg', topic: 't', body: 'hi' });
    await pump();
    expect(log.a).toContain('msg:hi');
  });

  it('a dialled side speaks only after the dialler, hello first, with and without a secret', async () => {
    for (const secret of [undefined, 'k']) {
      const { a, b, ca, cb, log, pump } = await linked([secret, secret], 'r', true);
      // Its first word could leave before the dialler's side is open, and be lost.
      expect(cb.sent).toEqual([]);
      expect(ca.sent).toHaveLength(1);
      cb.receive(ca.sent.shift() as ArrayBuffer);
      // Hello, then its ready (or its proof, made asynchronously): waited for, not slept on.
      await vi.waitFor(() => expect(cb.sent.length).toBeGreaterThanOrEqual(2));
      await pump();
      expect([a.state, b.state]).toEqual(['ready', 'ready']);
      expect([...log.dropsA, ...log.dropsB]).toEqual([]);
    }
  });

  it('with the same secret: both prove it, then ready', async () => {
    const { a, b, pump } = await linked(['k', 'k']);
    await pump();
    expect([a.state, b.state]).toEqual(['ready', 'ready']);
  });

  it('a peer with the wrong secret is disconnected and never learns capabilities', async () => {
    const { a, log, pump } = await linked(['right', 'wrong']);
    await pump();
    expect(a.state).toBe('closed');
    expect(log.dropsA).toContain('unauthenticated');
    expect(log.a.some((l) => l.startsWith('closed: refused: wrong secret'))).toBe(true);
    // Neither side got the other's capabilities.
    expect([...log.a, ...log.b].some((l) => l.startsWith('ready'))).toBe(false);
  });

  it('a peer without a secret cannot skip the proof', async () => {
    const { a, log, pump } = await linked(['k', undefined]);
    await pump();
    expect(a.state).toBe('closed');
    expect(log.dropsA).toContain('unauthenticated');
  });

  it('refuses an application message sent before the handshake', async () => {
    const other = await linked([undefined, undefined]);
    // b speaks before any hello came from a: a refuses it.
    other.cb.sent.splice(0);
    other.ca.receive(frame({ v: 1, t: 'msg', topic: 't', body: 'sneaky' }));
    await other.pump();
    expect(other.log.a).not.toContain('msg:sneaky');
    expect(other.a.state).toBe('closed');
  });
});

describe('hostile input on a ready link', () => {
  it('drops garbage, wrong versions, oversized and unknown messages; honest ones still arrive', async () => {
    const { a, ca, log, pump } = await linked([undefined, undefined]);
    await pump();
    const before = log.dropsA.length;
    const garbage = [
      new Uint8Array([1, 1, 200, 1, 2]).buffer, // unknown codec tag
      new Uint8Array([1, 1]).buffer, // empty head
      new Uint8Array([1, 7, 0]).buffer, // wrong frame version
      new Uint8Array(300_000).buffer, // oversized frame
      new Uint8Array([2, 1, 0, 0, 0, 1]).buffer, // truncated START
      new Uint8Array([3, 1, 0, 0, 0, 9, 1]).buffer, // DATA of nothing
      frame({ v: 2, t: 'msg', topic: 't', body: 1 }), // wrong message version
      frame({ v: 1, t: 'exec', code: 'alert(1)' }), // unknown type
      frame({ v: 1, t: 'req', id: -1, method: 'x', body: 1 }), // bad field
      frame([1, 2, 3]), // not an object
    ];
    for (const g of garbage) ca.receive(g);
    for (let i = 0; i < 200; i++) {
      ca.receive(crypto.getRandomValues(new Uint8Array(1 + (i % 60))).buffer as ArrayBuffer);
    }
    expect(log.dropsA.length - before).toBeGreaterThanOrEqual(garbage.length);
    expect(a.state).toBe('ready');
    ca.receive(frame({ v: 1, t: 'msg', topic: 't', body: 'honest' }));
    expect(log.a).toContain('msg:honest');
  });
});

/** A link to peer 'p' that hears nothing unless the test says so. */
function silentLink() {
  const ch = new FakeChannel();
  const closed: string[] = [];
  const link = new Link(
    ch,
    'p',
    { selfId: 's', session: 'x', room: 'r', capabilities: {} },
    {
      ready: () => undefined,
      message: () => undefined,
      dropped: () => undefined,
      closed: (reason) => closed.push(reason),
    },
  );
  links.push(link);
  return { ch, closed };
}

describe('link heartbeats', () => {
  it('closes a silent link the moment deadAfterMs has passed since it last heard anything', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    try {
      const { ch, closed } = silentLink();
      await vi.advanceTimersByTimeAsync(3000);
      // Anything heard (here bytes the reader refuses) moves the deadline.
      ch.receive(new Uint8Array([1, 2, 3]).buffer);
      await vi.advanceTimersByTimeAsync(3400);
      expect(closed).toEqual([]);
      await vi.advanceTimersByTimeAsync(150);
      expect(closed).toEqual(['no heartbeat']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('link heartbeats in a throttled tab', () => {
  it('a watchdog that fires a minute late asks the peer before it declares it gone', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    try {
      const { ch, closed } = silentLink();
      // The tab sleeps: a minute passes for the clock while no timer runs...
      vi.setSystemTime(Date.now() + 60_000);
      const sent = ch.sent.length;
      await vi.advanceTimersByTimeAsync(3501); // ...then the watchdog wakes, a minute late
      expect(closed).toEqual([]);
      expect(ch.sent.length).toBeGreaterThan(sent); // it asked (a ping)
      ch.receive(new Uint8Array([1, 2, 3]).buffer); // the peer answers on receipt
      await vi.advanceTimersByTimeAsync(3400);
      expect(closed).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('in a hidden page, a watchdog on time asks too: a peer hidden beside it pings as seldom', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    vi.stubGlobal('document', { hidden: true, visibilityState: 'hidden' });
    try {
      const { ch, closed } = silentLink();
      const sent = ch.sent.length;
      await vi.advanceTimersByTimeAsync(3600); // silent past deadAfterMs, the timer on time
      expect(closed).toEqual([]);
      expect(ch.sent.length).toBeGreaterThan(sent); // it asked
      ch.receive(new Uint8Array([1, 2, 3]).buffer); // the answer
      await vi.advanceTimersByTimeAsync(3400);
      expect(closed).toEqual([]);
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  it('in a hidden page, a peer that does not answer is declared gone at the next deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    vi.stubGlobal('document', { hidden: true, visibilityState: 'hidden' });
    try {
      const { closed } = silentLink();
      await vi.advanceTimersByTimeAsync(3600);
      expect(closed).toEqual([]);
      await vi.advanceTimersByTimeAsync(3600);
      expect(closed).toEqual(['no heartbeat']);
    } finally {
      vi.unstubAllGlobals();
      vi.useRealTimers();
    }
  });

  it('a peer that does not answer the question is declared gone at the next deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    try {
      const { closed } = silentLink();
      vi.setSystemTime(Date.now() + 60_000);
      await vi.advanceTimersByTimeAsync(3501);
      expect(closed).toEqual([]);
      await vi.advanceTimersByTimeAsync(3501);
      expect(closed).toEqual(['no heartbeat']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a retiring link', () => {
  it("answers the peer's pings while its bye waits for what is still going out", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    try {
      const { a, b, ca, cb, log } = linkPair((link) => links.push(link));
      // Frames cross every 10 ms; a's channel never reports them delivered (a lane whose peer's
      // acknowledgement is late, as in a hidden tab), so a's bye waits.
      const run = async (ms: number) => {
        for (let t = 0; t < ms; t += 10) {
          for (const f of ca.sent.splice(0)) if (!cb.closed) cb.receive(f);
          for (const f of cb.sent.splice(0)) if (!ca.closed) ca.receive(f);
          await vi.advanceTimersByTimeAsync(10);
        }
      };
      await run(100);
      expect([a.state, b.state]).toEqual(['ready', 'ready']);
      a.retire('idle');
      await run(10_000); // well past b's 3.5 s without a heartbeat
      expect(log).toEqual([]);
      ca.drain();
      await run(100);
      expect(log).toContain('b: peer retired the channel (idle)');
      expect(log.some((line) => line.includes('no heartbeat'))).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });
});

function frame(value: unknown): ArrayBuffer {
  const { head } = encode(value);
  const out = new Uint8Array(head.length + 2);
  out.set([1, 1]);
  out.set(head, 2);
  return out.buffer;
}
