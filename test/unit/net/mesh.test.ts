import { afterEach, describe, expect, it, vi } from 'vitest';
import { PeerGoneError, RemoteError, RequestTimeoutError } from '../../../src/errors.ts';
import { MemoryHub, type MemoryPeerOptions } from '../../../src/net/memory-transport.ts';
import type { Mesh } from '../../../src/net/mesh.ts';
import { Rpc } from '../../../src/net/rpc.ts';
import type { PeerInfo } from '../../../src/net/transport.ts';

/** Quick heartbeats, so real timers keep these tests short. */
const FAST = { heartbeatMs: 20, deadAfterMs: 150 };
const meshes: Mesh[] = [];

async function join(hub: MemoryHub, options: MemoryPeerOptions): Promise<Mesh> {
  const mesh = await hub.join({ ...FAST, ...options });
  meshes.push(mesh);
  return mesh;
}

const ids = (peers: PeerInfo[]) => peers.map((p) => p.id).sort();

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(meshes.splice(0).map((m) => m.close()));
});

describe('membership over the in-memory transport', () => {
  it('peers of a room find each other with capabilities; another room stays apart', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a', room: 'r', capabilities: { cpu: 4 } });
    const b = await join(hub, { id: 'b', room: 'r', capabilities: { cpu: 2 } });
    const c = await join(hub, { id: 'c', room: 'r' });
    const x = await join(hub, { id: 'x', room: 'other' });
    await vi.waitFor(() => {
      expect(ids(a.peers())).toEqual(['b', 'c']);
      expect(ids(b.peers())).toEqual(['a', 'c']);
      expect(ids(c.peers())).toEqual(['a', 'b']);
    });
    expect(a.peers().find((p) => p.id === 'b')?.capabilities).toEqual({ cpu: 2 });
    expect(b.peers().find((p) => p.id === 'a')?.capabilities).toEqual({ cpu: 4 });
    expect(x.peers()).toEqual([]);
    await expect(x.send('a', { v: 1, t: 'msg', topic: 't', body: 1 })).rejects.toBeInstanceOf(
      PeerGoneError,
    );
  });

  it('a message sent before any channel exists waits for it and arrives once', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a' });
    const joins: string[] = [];
    const leaves: string[] = [];
    a.on('peer:join', (p) => joins.push(`a<-${p.id}`));
    a.on('peer:leave', (p) => leaves.push(p.id));
    const b = await join(hub, { id: 'b' });
    b.on('peer:join', (p) => joins.push(`b<-${p.id}`));
    const got: unknown[] = [];
    a.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    // Both know each other from the room list; b's message opens the link.
    expect(ids(b.peers())).toEqual(['a']);
    expect(b.peers()[0]?.lane).toBeUndefined();
    await b.send('a', { v: 1, t: 'msg', topic: 't', body: 'first' });
    await vi.waitFor(() => expect(got).toEqual(['first']));
    await new Promise((r) => setTimeout(r, 100));
    expect(joins).toEqual(['a<-b']); // joined when listed; the link made no second join
    expect(b.peers()[0]?.lane).toBe('memory');
    expect(b.links()).toMatchObject({ open: 1, opened: 1 });
    expect(leaves).toEqual([]);
  });

  it('tells a restarted peer (same id, new session) from the old one', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a' });
    const b1 = await join(hub, { id: 'b', capabilities: { v: 1 } });
    await vi.waitFor(() => expect(ids(a.peers())).toEqual(['b']));
    const events: string[] = [];
    a.on('peer:leave', (p) => events.push(`leave ${p.capabilities.v}`));
    a.on('peer:join', (p) => events.push(`join ${p.capabilities.v}`));
    hub.vanish('b'); // the old tab dies without a word...
    await b1.close();
    const b2 = await join(hub, { id: 'b', capabilities: { v: 2 } }); // ...and comes back as b

    await vi.waitFor(() => expect(events).toContain('join 2'));
    expect(events[0]).toBe('leave 1');
    expect(b2.peers().map((p) => p.id)).toEqual(['a']);
  });

  it('declares a vanished peer gone within 5 s with the default heartbeats', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const hub = new MemoryHub();
    const a = await hub.join({ id: 'a' });
    const b = await hub.join({ id: 'b' });
    meshes.push(a, b);
    void a.send('b', { v: 1, t: 'msg', topic: 't', body: null }); // a link to lose
    await vi.advanceTimersByTimeAsync(100);
    expect(ids(a.peers())).toEqual(['b']);
    expect(a.links().open).toBe(1);
    const left: number[] = [];
    a.on('peer:leave', () => left.push(Date.now()));
    const vanishedAt = Date.now();
    hub.vanish('b');
    await vi.advanceTimersByTimeAsync(6000);
    expect(left).toHaveLength(1);
    expect((left[0] as number) - vanishedAt).toBeLessThanOrEqual(5000);
    expect(a.peers()).toEqual([]);
  });

  it('knows a peer gone within a second when the coordinator says it left and it is silent', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval', 'Date'] });
    const hub = new MemoryHub();
    const [a, b, c] = [
      await hub.join({ id: 'a' }),
      await hub.join({ id: 'b' }),
      await hub.join({ id: 'c' }),
    ];
    meshes.push(a, b, c);
    const ping = { v: 1, t: 'msg', topic: 't', body: null } as const;
    void a.send('b', ping); // links to both
    void a.send('c', ping);
    await vi.advanceTimersByTimeAsync(100);
    const left: string[] = [];
    a.on('peer:leave', ({ id }) => left.push(id));
    hub.vanish('b'); // a closed tab: gone from the room, silent
    hub.unlist('c'); // cut off from the coordinator only: still answers
    await vi.advanceTimersByTimeAsync(1100);
    expect(left).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(6000);
    expect(left).toEqual(['b']);
    expect(ids(a.peers())).toEqual(['c']);
  });

  it('reconnects after a partition heals', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a' });
    const b = await join(hub, { id: 'b' });
    await a.send('b', { v: 1, t: 'msg', topic: 't', body: null }); // a link, which then breaks
    const events: string[] = [];
    a.on('peer:leave', () => events.push('leave'));
    a.on('peer:join', () => events.push('join'));
    hub.partition(['a'], ['b']);
    // Heartbeats find it within a second or so; a loaded machine runs the watchdog late.
    await vi.waitFor(() => expect(events).toEqual(['leave']), { timeout: 5000 });
    hub.heal();
    await vi.waitFor(() => expect(events).toEqual(['leave', 'join']), { timeout: 5000 });
    // b knows a again once its own side of the new link is ready: a moment after a's, maybe.
    await vi.waitFor(() => expect(ids(b.peers())).toEqual(['a']));
  });

  it('keeps messages on one channel in order under random delays', async () => {
    const hub = new MemoryHub();
    hub.setDelay(() => Math.random() * 5);
    const a = await join(hub, { id: 'a' });
    const b = await join(hub, { id: 'b' });
    const got: unknown[] = [];
    b.on('message', ({ message }) => message.t === 'msg' && got.push(message.body));
    for (let i = 0; i < 50; i++) void a.send('b', { v: 1, t: 'msg', topic: 'n', body: i });
    await vi.waitFor(() => expect(got).toHaveLength(50));
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('secret', () => {
  it('peers sharing the secret meet; a peer without it discovers nobody', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a', room: 'r', secret: 's3cret' });
    const b = await join(hub, { id: 'b', room: 'r', secret: 's3cret' });
    const rogue = await join(hub, { id: 'rogue', room: 'r', secret: 'guess' });
    await vi.waitFor(() => expect(ids(a.peers())).toEqual(['b']));
    expect(ids(b.peers())).toEqual(['a']);
    expect(rogue.peers()).toEqual([]);
    await expect(rogue.send('a', { v: 1, t: 'msg', topic: 't', body: 1 })).rejects.toBeInstanceOf(
      PeerGoneError,
    );
  });
});

describe('rpc', () => {
  async function pair() {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a' });
    const b = await join(hub, { id: 'b' });
    await vi.waitFor(() => expect(ids(a.peers())).toEqual(['b']));
    return { hub, a: new Rpc(a, 10_000), b: new Rpc(b, 10_000) };
  }

  it('answers requests with typed values, in both directions', async () => {
    const { a, b } = await pair();
    b.handle('echo', (body, from) => ({ body, from }));
    a.handle('sum', (body) => (body as number[]).reduce((s, x) => s + x, 0));
    const bytes = new Float32Array([1.5, 2.5]);
    expect(await a.request('b', 'echo', { bytes, when: new Date(5) })).toEqual({
      body: { bytes, when: new Date(5) },
      from: 'a',
    });
    expect(await b.request('a', 'sum', [1, 2, 3])).toBe(6);
  });

  it('reports a remote error with its code, message and stack', async () => {
    const { a, b } = await pair();
    b.handle('fail', () => {
      throw Object.assign(new Error('no such thing'), { code: 'data_not_found' });
    });
    const error = await a.request('b', 'fail', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteCode: 'data_not_found', peerId: 'b' });
    expect((error as RemoteError).message).toContain('no such thing');
    expect((error as RemoteError).remoteStack).toContain('no such thing');
    const unknown = await a.request('b', 'nope', null).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ remoteCode: 'unknown_method' });
  });

  it('times out, and honours an AbortSignal', async () => {
    const { a, b } = await pair();
    b.handle('never', () => new Promise(() => undefined));
    const timedOut = await a
      .request('b', 'never', null, { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(RequestTimeoutError);
    expect(timedOut).toMatchObject({ peerId: 'b', method: 'never', timeoutMs: 50 });
    const controller = new AbortController();
    const pending = a.request('b', 'never', null, { signal: controller.signal });
    controller.abort(new Error('user gave up'));
    await expect(pending).rejects.toThrow('user gave up');
  });

  it('fails a pending request with PeerGoneError when the peer vanishes', async () => {
    const { hub, a, b } = await pair();
    b.handle('never', () => new Promise(() => undefined));
    const pending = a.request('b', 'never', null, { timeoutMs: 60_000 });
    hub.vanish('b');
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerGoneError);
  });

  it('carries notifications by topic', async () => {
    const { a, b } = await pair();
    const got: unknown[] = [];
    b.onNotify('progress', ({ from, body }) => got.push([from, body]));
    await a.notify('b', 'progress', { done: 3 });
    await vi.waitFor(() => expect(got).toEqual([['a', { done: 3 }]]));
  });
});
