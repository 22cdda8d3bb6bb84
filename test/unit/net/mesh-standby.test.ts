// A second channel between two peers (both dialled at once) must not replace the first (a large
// value may be on its way over it), and must take its place when the first dies. Driven through a connector of the test's own, so the duplicate comes exactly when
// the test wants it.
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Channel } from '../../../src/net/channel.ts';
import { type Connector, type DirectoryEvent, Mesh } from '../../../src/net/mesh.ts';
import { portChannel } from '../../../src/net/port-channel.ts';

interface Wire {
  /** Frames on this pair are lost both ways (the peer died without a word). */
  cut: boolean;
}

/**
 * Two ends of one channel, the dialler's first; frames arrive on the next task, in order. With
 * `says`, each end says which it is, as WebRTC's do.
 */
function pair(says = false): [Channel, Channel, Wire] {
  const wire: Wire = { cut: false };
  const listeners: ((data: ArrayBuffer) => void)[] = [];
  const closers: (() => void)[][] = [[], []];
  let closed = false;
  const end = (i: 0 | 1): Channel => ({
    lane: 'memory',
    answers: says ? i === 1 : undefined,
    send(data) {
      if (closed) throw new Error('closed');
      const copy = data.slice().buffer as ArrayBuffer;
      setTimeout(() => {
        if (!wire.cut && !closed) listeners[1 - i]?.(copy);
      }, 0);
    },
    bufferedAmount: 0,
    onDrain: () => undefined,
    onMessage(listener) {
      listeners[i] = listener;
    },
    onClose(listener) {
      closers[i]?.push(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const side of closers) for (const l of side) setTimeout(l, 0);
    },
  });
  return [end(0), end(1), wire];
}

/** Two ends of a same-browser lane, the dialler's first, as the broker hands them out. */
function lanePair(): [Channel, Channel] {
  const { port1, port2 } = new MessageChannel();
  const ended = () => undefined;
  return [
    portChannel(port1 as unknown as MessagePort, 's-b', ended, false),
    portChannel(port2 as unknown as MessagePort, 's-a', ended, true),
  ];
}

interface Peer {
  mesh: Mesh;
  incoming?: (peerId: string, channel: Channel) => void;
  directory?: (event: DirectoryEvent) => void;
  /** The dial this peer has in flight, finished by the test. */
  dial?: (channel: Channel) => void;
  /** Dials it made. */
  dials: number;
}

const meshes: Mesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.close()));
  vi.useRealTimers();
});

/** Peers 'a' and 'b' whose dials finish only when the test says so. */
function twoPeers(idleLinkMs = Number.POSITIVE_INFINITY): {
  a: Peer;
  b: Peer;
  finishDial(dialer: 'a' | 'b'): Wire;
} {
  const peers: Record<string, Peer> = {};
  const make = (id: string): Peer => {
    const peer = { dials: 0 } as Peer;
    const connector: Connector = {
      dial: () =>
        new Promise<Channel>((resolve) => {
          peer.dials++;
          peer.dial = resolve;
        }),
      onIncoming: (handler) => {
        peer.incoming = handler;
      },
      onDirectory: (handler) => {
        peer.directory = handler;
      },
      onCoordinator: () => undefined,
      close: async () => undefined,
    };
    // Heartbeats far apart: a link is quiet for seconds yet alive.
    const options = { selfId: id, session: `s-${id}`, room: 'r', capabilities: {} };
    const links = {
      heartbeatMs: 60_000,
      deadAfterMs: 120_000,
      idleLinkMs,
    };
    peer.mesh = new Mesh(id, { ...options, ...links }, connector);
    meshes.push(peer.mesh);
    peers[id] = peer;
    return peer;
  };
  const a = make('a');
  const b = make('b');
  a.directory?.({ type: 'members', members: [{ id: 'b', session: 's-b', capabilities: {} }] });
  b.directory?.({ type: 'members', members: [{ id: 'a', session: 's-a', capabilities: {} }] });
  return {
    a,
    b,
    finishDial(dialer) {
      const [mine, theirs, wire] = pair();
      const other = dialer === 'a' ? 'b' : 'a';
      const dial = (peers[dialer] as Peer).dial;
      if (dial === undefined) throw new Error(`${dialer} is not dialling`);
      dial(mine);
      (peers[other] as Peer).incoming?.(dialer, theirs);
      return wire;
    },
  };
}

const hello = { v: 1, t: 'msg', topic: 't', body: 'hello' } as const;

/**
 * The race seen on slow machines: both peers have something to send and dial at once; a's
 * channel (the preferred one, a < b) wins, and b's arrives much later, while the link is quiet
 * (one side busy sending).
 */
async function lateDuplicate() {
  vi.useFakeTimers();
  const peers = twoPeers();
  void peers.a.mesh.send('b', hello);
  void peers.b.mesh.send('a', hello);
  expect(peers.b.dial).toBeDefined();
  const first = peers.finishDial('a');
  await vi.advanceTimersByTimeAsync(10);
  expect(peers.a.mesh.peers().map((p) => `${p.id} ${p.lane}`)).toEqual(['b memory']);
  await vi.advanceTimersByTimeAsync(1700); // quiet for longer than 1.5 s
  return { ...peers, first };
}

/**
 * Both peers dial at once and each side's own dial opens first there (its main link), the
 * peer's second; `says`: the pipes say who dialled, as WebRTC's do. Records leaves and closes.
 */
async function crossedDials(
  says: boolean,
  make: () => [Channel, Channel, ...unknown[]] = () => pair(says),
) {
  // setImmediate stays real: a real MessagePort delivers between the steps of `elapse`.
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
  const peers = twoPeers(60_000);
  const { a, b } = peers;
  const events: string[] = [];
  for (const [name, peer] of [
    ['a', a],
    ['b', b],
  ] as const) {
    peer.mesh.on('peer:leave', (p) => events.push(`${name}: ${p.id} left (${p.reason})`));
  }
  void a.mesh.send('b', hello);
  void b.mesh.send('a', hello);
  const [aDials, bHears] = make();
  const [bDials, aHears] = make();
  a.dial?.(aDials);
  b.dial?.(bDials);
  b.incoming?.('a', bHears);
  a.incoming?.('b', aHears);
  await elapse(100);
  const closes = { count: 0 };
  for (const end of [aDials, bDials]) end.onClose(() => closes.count++);
  return { ...peers, events, closes };
}

/** Fake time moves in steps of 50 ms; between them, real MessagePorts deliver what they carry. */
async function elapse(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await vi.advanceTimersByTimeAsync(50);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('a second channel between two peers', () => {
  it('stays beside the first: nobody leaves, messages go on', async () => {
    const { a, b, finishDial } = await lateDuplicate();
    const left: string[] = [];
    a.mesh.on('peer:leave', (p) => left.push(p.id));
    b.mesh.on('peer:leave', (p) => left.push(p.id));
    finishDial('b');
    await vi.advanceTimersByTimeAsync(1300); // the probe's answer, and the decision
    expect(left).toEqual([]);
    const got: unknown[] = [];
    b.mesh.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    await a.mesh.send('b', { v: 1, t: 'msg', topic: 't', body: 'still here' });
    await vi.advanceTimersByTimeAsync(10);
    expect(got).toEqual(['still here']);
  });

  it('lets the second channel take over, without a leave, when the first one dies', async () => {
    const { a, b, first, finishDial } = await lateDuplicate();
    const events: string[] = [];
    a.mesh.on('peer:leave', (p) => events.push(`leave ${p.id}: ${p.reason}`));
    a.mesh.on('peer:join', (p) => events.push(`join ${p.id}`));
    finishDial('b');
    await vi.advanceTimersByTimeAsync(100);
    expect(a.mesh.links().open).toBe(1); // the entry; the second is an extra beside it
    first.cut = true; // dead without a word: its heartbeats stop
    await vi.advanceTimersByTimeAsync(125_000);
    expect(events).toEqual([]);
    const got: unknown[] = [];
    b.mesh.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    void a.mesh.send('b', { v: 1, t: 'msg', topic: 't', body: 'over the second' });
    await vi.advanceTimersByTimeAsync(10);
    expect(got).toEqual(['over the second']);
  });

  it('carries the messages when it gets ready before the first, stuck in its handshake', async () => {
    vi.useFakeTimers();
    const { a, b, finishDial } = twoPeers();
    const got: unknown[] = [];
    b.mesh.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    void a.mesh.send('b', { ...hello, body: 'waiting' });
    void b.mesh.send('a', hello);
    finishDial('a').cut = true; // a's own dial: its handshake never ends
    await vi.advanceTimersByTimeAsync(100);
    finishDial('b');
    await vi.advanceTimersByTimeAsync(100); // far less than the handshake's 10 s timeout
    expect(got).toEqual(['waiting']);
  });

  it('keeps the same one on both sides when each adopted its own dial first, and retires the other', async () => {
    const { a, b, events, closes } = await crossedDials(true);
    // Both sweep their idle extras (every 5 s, unused for 5 s).
    await vi.advanceTimersByTimeAsync(20_000);
    expect(events).toEqual([]);
    expect(closes.count).toBe(1); // b's dial: a < b, so both kept a's
    const got: string[] = [];
    a.mesh.on('message', ({ message }) =>
      got.push(message.t === 'msg' ? `a got ${message.body}` : ''),
    );
    b.mesh.on('message', ({ message }) =>
      got.push(message.t === 'msg' ? `b got ${message.body}` : ''),
    );
    void a.mesh.send('b', { ...hello, body: 'x' });
    void b.mesh.send('a', { ...hello, body: 'y' });
    await vi.advanceTimersByTimeAsync(10);
    expect(got.sort()).toEqual(['a got y', 'b got x']);
    expect([a.dials, b.dials]).toEqual([1, 1]); // no channel had to be dialled again
  });

  it('keeps the same one on both sides over same-browser lanes too (each end says who asked)', async () => {
    const { a, b, events, closes } = await crossedDials(true, lanePair);
    await elapse(20_000);
    expect(events).toEqual([]);
    expect(closes.count).toBe(1);
    const got: string[] = [];
    b.mesh.on('message', ({ message }) => got.push(message.t === 'msg' ? `${message.body}` : ''));
    void a.mesh.send('b', { ...hello, body: 'on the lane a asked for' });
    await vi.waitFor(() => expect(got).toEqual(['on the lane a asked for']));
    expect([a.dials, b.dials]).toEqual([1, 1]);
  });

  it('makes no leave when each side retires a different one of two: the next message dials again', async () => {
    // Pipes that do not say who dialled: each side keeps the one it adopted first, its own.
    const { a, b, finishDial, events, closes } = await crossedDials(false);
    // Used 3 s in, each way on the sender's own: retired at the 10 s sweep, used 7 s before.
    await vi.advanceTimersByTimeAsync(3000);
    void a.mesh.send('b', hello);
    void b.mesh.send('a', hello);
    await vi.advanceTimersByTimeAsync(9000);
    expect(closes.count).toBe(2);
    expect(events).toEqual([]);
    const got: unknown[] = [];
    b.mesh.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    void a.mesh.send('b', { ...hello, body: 'after' });
    expect(a.dials).toBe(2);
    finishDial('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual(['after']);
  });
});
