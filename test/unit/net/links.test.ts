// Links on demand: peers know each other from the room list, open a link when they have something
// to send, and close it once idle, without anyone leaving and without losing a message.
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryHub, type MemoryPeerOptions } from '../../../src/net/memory-transport.ts';
import type { Mesh } from '../../../src/net/mesh.ts';
import { Rpc } from '../../../src/net/rpc.ts';

const meshes: Mesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.close()));
});

async function join(hub: MemoryHub, options: MemoryPeerOptions): Promise<Mesh> {
  const mesh = await hub.join({ heartbeatMs: 20, deadAfterMs: 300, ...options });
  meshes.push(mesh);
  return mesh;
}

const msg = (body: unknown) => ({ v: 1, t: 'msg', topic: 't', body }) as const;
const until = async (check: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('links on demand', () => {
  it('a room of 30 knows every member with no link at all', async () => {
    const hub = new MemoryHub();
    const peers: Mesh[] = [];
    for (let i = 0; i < 30; i++) peers.push(await join(hub, { id: `p${i}`, capabilities: { i } }));
    for (const [i, peer] of peers.entries()) {
      expect(peer.peers()).toHaveLength(29);
      expect(peer.links()).toEqual({ open: 0, opened: 0, peerConnections: 0 });
      expect(peer.peers().every((p) => p.lane === undefined)).toBe(true);
      expect(peer.peers().find((p) => p.id !== `p${i}`)?.capabilities).toHaveProperty('i');
    }
  });

  it('closes an idle link without a leave, and opens it again for the next message', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a', idleLinkMs: 150 });
    const b = await join(hub, { id: 'b', idleLinkMs: 150 });
    const events: string[] = [];
    for (const [name, mesh] of [
      ['a', a],
      ['b', b],
    ] as const) {
      mesh.on('peer:leave', (p) => events.push(`${name} leave ${p.id}`));
      mesh.on('peer:join', (p) => events.push(`${name} join ${p.id}`));
    }
    const got: unknown[] = [];
    b.on('message', ({ message }) => got.push(message.t === 'msg' ? message.body : null));
    await a.send('b', msg(1));
    expect(a.links().open).toBe(1);
    await until(() => a.links().open === 0 && b.links().open === 0);
    expect(a.peers().map((p) => `${p.id} ${p.lane}`)).toEqual(['b undefined']);
    await a.send('b', msg(2));
    await until(() => got.length === 2);
    expect(got).toEqual([1, 2]);
    expect(a.links()).toMatchObject({ open: 1, opened: 2 });
    expect(events).toEqual([]);
  });

  it('keeps a link busy with a request awaiting its answer only as long as it is used', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a', idleLinkMs: 100 });
    const b = await join(hub, { id: 'b', idleLinkMs: 100 });
    const server = new Rpc(b);
    // The answer comes after the link went idle and closed: it opens a new one and arrives.
    server.handle('slow', () => new Promise((r) => setTimeout(() => r('late'), 400)));
    const client = new Rpc(a, 5000);
    await expect(client.request('b', 'slow', null)).resolves.toBe('late');
    expect(b.links().opened + a.links().opened).toBeGreaterThanOrEqual(3);
    client.close();
    server.close();
  });

  it('loses nothing sent across a link while it is being retired', async () => {
    const hub = new MemoryHub();
    hub.setDelay(() => 30); // the bye and the messages cross on the way
    const a = await join(hub, { id: 'a', idleLinkMs: 120, deadAfterMs: 2000 });
    const b = await join(hub, { id: 'b', idleLinkMs: 120, deadAfterMs: 2000 });
    const got: number[] = [];
    a.on('message', ({ message }) => {
      if (message.t === 'msg') got.push(message.body as number);
    });
    await b.send('a', msg(0));
    // Keep sending from b at moments around the idle deadline while the links close and open.
    let sent = 1;
    for (let round = 0; round < 16; round++) {
      await new Promise((r) => setTimeout(r, 100 + (round % 8) * 20 + Math.random() * 10));
      await b.send('a', msg(sent++));
    }
    await until(() => got.length === sent);
    expect(got).toEqual([...Array(sent).keys()]);
    expect(b.links().opened).toBeGreaterThan(1); // links did close and open meanwhile
  }, 15_000);

  it('a listed peer that cannot be reached leaves, then joins when a link works', async () => {
    const hub = new MemoryHub();
    const a = await join(hub, { id: 'a' });
    await join(hub, { id: 'b' });
    const events: string[] = [];
    a.on('peer:leave', (p) => events.push(`leave ${p.id}`));
    a.on('peer:join', (p) => events.push(`join ${p.id}`));
    hub.partition(['a'], ['b']);
    await expect(a.send('b', msg(1))).rejects.toThrow(/not reachable/);
    expect(events).toEqual(['leave b']);
    expect(a.peers()).toEqual([]);
    hub.heal();
    await until(() => events.length === 2, 8000); // dialled again after 2 s
    expect(events).toEqual(['leave b', 'join b']);
    await a.send('b', msg(2));
  });
});

describe('two peers dialling each other at once', () => {
  it('settle on one link, and every request both ways is answered', async () => {
    for (let round = 0; round < 10; round++) {
      const hub = new MemoryHub();
      hub.setDelay(() => 5 + Math.random() * 20);
      const a = await join(hub, { id: `a${round}`, deadAfterMs: 3000 });
      const b = await join(hub, { id: `b${round}`, deadAfterMs: 3000 });
      const [ra, rb] = [new Rpc(a, 4000), new Rpc(b, 4000)];
      ra.handle('echo', (x) => x);
      rb.handle('echo', (x) => x);
      const asks = [];
      for (let i = 0; i < 5; i++) {
        asks.push(ra.request(b.id, 'echo', `a${i}`), rb.request(a.id, 'echo', `b${i}`));
        await new Promise((r) => setTimeout(r, Math.random() * 15));
      }
      expect(await Promise.all(asks)).toEqual([0, 1, 2, 3, 4].flatMap((i) => [`a${i}`, `b${i}`]));
      await until(() => a.links().open === 1 && b.links().open === 1);
      ra.close();
      rb.close();
    }
  }, 30_000);
});
