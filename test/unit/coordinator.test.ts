import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import { type RoomEvent, type RoomSocket, Rooms } from '../../src/coordinator/rooms.ts';
import { CloseCode } from '../../src/net/close-codes.ts';
import { member, roomSeenBy, signal } from './coordinator-clients.ts';

class FakeSocket implements RoomSocket {
  readonly got: RoomEvent[] = [];
  closed: number | undefined;
  send(data: string): void {
    this.got.push(JSON.parse(data));
  }
  close(code?: number): void {
    this.closed = code;
  }
}

describe('rooms', () => {
  it('gives a newcomer the room, earlier members a batch of changes, nothing across rooms', () => {
    const log: string[] = [];
    const rooms = new Rooms({ log: (event, room, id) => log.push(`${event} ${room} ${id}`) });
    const [a, b, x] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's-a', a, { cpu: 2 });
    rooms.flush();
    rooms.join('r', 'b', 's-b', b);
    rooms.join('other', 'x', 's-x', x);
    rooms.flush();
    expect(a.got).toEqual([
      { type: 'members', members: [{ id: 'a', session: 's-a', capabilities: { cpu: 2 } }] },
      { type: 'batch', events: [{ type: 'join', id: 'b', session: 's-b', capabilities: {} }] },
    ]);
    expect(b.got).toEqual([
      {
        type: 'members',
        members: [
          { id: 'a', session: 's-a', capabilities: { cpu: 2 } },
          { id: 'b', session: 's-b', capabilities: {} },
        ],
      },
    ]);
    expect(x.got).toEqual([
      { type: 'members', members: [{ id: 'x', session: 's-x', capabilities: {} }] },
    ]);
    rooms.leave('r', 'b', b);
    rooms.flush();
    expect(a.got.at(-1)).toEqual({ type: 'batch', events: [{ type: 'leave', id: 'b' }] });
    expect(rooms.snapshot()).toEqual({ r: ['a'], other: ['x'] });
    expect(log).toEqual(['join r a', 'join r b', 'join other x', 'leave r b']);
  });

  it('sends one message per member per batch, however many joined', () => {
    const rooms = new Rooms();
    const sockets = Array.from({ length: 100 }, () => new FakeSocket());
    sockets.forEach((s, i) => {
      rooms.join('r', `p${i}`, 's', s);
    });
    rooms.flush();
    expect(rooms.sent).toMatchObject({ messages: 100, flushes: 1 });
    for (const s of sockets) expect(s.got).toHaveLength(1);
    const late = new FakeSocket();
    rooms.join('r', 'late', 's', late);
    rooms.leave('r', 'p0', sockets[0] as FakeSocket);
    rooms.flush();
    expect(rooms.sent.messages).toBe(100 + 100); // 99 earlier members and the newcomer
    expect(sockets[1]?.got.at(-1)).toEqual({
      type: 'batch',
      events: [
        { type: 'join', id: 'late', session: 's', capabilities: {} },
        { type: 'leave', id: 'p0' },
      ],
    });
  });

  it('flushes on its own a short while after a change', async () => {
    vi.useFakeTimers();
    try {
      const rooms = new Rooms({ flushMs: 25 });
      const a = new FakeSocket();
      rooms.join('r', 'a', 's', a);
      expect(a.got).toEqual([]);
      await vi.advanceTimersByTimeAsync(25);
      expect(a.got).toHaveLength(1);
      rooms.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets a reloaded node take over its seat; the stale socket leaving changes nothing', () => {
    const rooms = new Rooms();
    const [a, old, fresh] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's1', a);
    rooms.join('r', 'b', 'old', old);
    rooms.flush();
    rooms.join('r', 'b', 'new', fresh);
    rooms.flush();
    expect(old.closed).toBe(CloseCode.replaced);
    expect(a.got.at(-1)).toEqual({
      type: 'batch',
      events: [{ type: 'join', id: 'b', session: 'new', capabilities: {} }],
    });
    rooms.leave('r', 'b', old);
    expect(rooms.snapshot()).toEqual({ r: ['a', 'b'] });
  });

  it('evicts an id from every room when its signalling connection goes', () => {
    const rooms = new Rooms();
    const [a, b] = [new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's', a);
    rooms.join('r', 'b', 's', b);
    rooms.flush();
    rooms.evict('b');
    rooms.flush();
    expect(b.closed).toBe(CloseCode.evicted);
    expect(a.got.at(-1)).toEqual({ type: 'batch', events: [{ type: 'leave', id: 'b' }] });
  });

  it('refuses a seat beyond the per-id limit, and frees one when a seat is left', () => {
    const rooms = new Rooms({ maxSeatsPerId: 2 });
    const s = [new FakeSocket(), new FakeSocket(), new FakeSocket()] as const;
    expect(rooms.join('r1', 'a', 's', s[0])).toBe(true);
    expect(rooms.join('r2', 'a', 's', s[1])).toBe(true);
    expect(rooms.join('r3', 'a', 's', s[2])).toBe(false);
    expect(rooms.join('r1', 'a', 's2', s[2])).toBe(true); // taking over a seat is no new seat
    rooms.leave('r2', 'a', s[1]);
    expect(rooms.join('r3', 'a', 's', new FakeSocket())).toBe(true);
    rooms.close();
  });
});

describe('coordinator', () => {
  let coordinator: Coordinator | undefined;
  afterEach(async () => {
    await coordinator?.close();
    coordinator = undefined;
  });

  it('serves PeerJS signalling with discovery off, under its path, and its health', async () => {
    coordinator = await startCoordinator({ port: 0 });
    expect(coordinator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/handout$/);
    const info = await fetch(`${coordinator.url}/`).then((r) => r.json());
    expect(info.name).toBe('PeerJS Server');
    expect((await fetch(`${coordinator.url}/peerjs/peers`)).status).toBe(401);
    const a = await member(coordinator.url, 'a', 'r');
    const health = await fetch(`${coordinator.url}/health`).then((r) => r.json());
    expect(health).toMatchObject({
      status: 'ok',
      clients: { signalling: 1, rooms: 1, addresses: 1 },
      rooms: 1,
      members: 1,
      dropped: { total: 0 },
    });
    expect(health.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(health.memory.rss).toBeGreaterThan(0);
    a.ws.close();
  });

  it('refuses a room member without a signalling connection of that id and token', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const stranger = await member(coordinator.url, 'abc', 'r', { signalling: false });
    expect(await stranger.closed).toMatchObject({ code: CloseCode.unauthorized });
    expect(coordinator.rooms()).toEqual({});
    const malformed = await member(coordinator.url, 'bad id!', 'r', { signalling: false });
    expect(await malformed.closed).toMatchObject({ code: CloseCode.badRequest });
    expect(coordinator.health().dropped).toMatchObject({
      total: 2,
      unauthorized: 1,
      'bad-request': 1,
    });
  });

  it('50 members joining at once each see the whole room, in about 2 messages each', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const url = coordinator.url;
    const ids = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const members = await Promise.all(ids.map((id) => member(url, id, 'crowd')));
    for (const m of members) {
      await vi.waitFor(() => expect(roomSeenBy(m).size).toBe(50), { timeout: 5000 });
    }
    const { messages } = coordinator.health();
    // One message per member per batch: far from the n(n+1)/2 of one message per join.
    expect(messages.rooms).toBeLessThanOrEqual(50 * messages.roomBatches);
    expect(messages.rooms).toBeLessThan((50 * 51) / 2);
    for (const m of members) m.ws.close();
  });

  it('closes every client with 1001 "going away" when it stops', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const a = await member(coordinator.url, 'a', 'r');
    const stopped = coordinator.close();
    expect(await a.closed).toMatchObject({ code: CloseCode.goingAway });
    expect(await a.signalling?.closed).toMatchObject({ code: CloseCode.goingAway });
    await stopped;
  });

  it('logs structured entries: listening, joins, refusals', async () => {
    const entries: { event: string }[] = [];
    coordinator = await startCoordinator({ port: 0, log: (e) => entries.push(e) });
    const a = await member(coordinator.url, 'a', 'r');
    const bad = await signal(coordinator.url, 'x'.repeat(200));
    await bad.closed;
    expect(entries.map((e) => e.event)).toEqual(['listening', 'join', 'refused']);
    expect(entries[2]).toMatchObject({
      level: 'warn',
      code: CloseCode.badRequest,
      socket: 'signalling',
    });
    a.ws.close();
  });
});

describe('handout-coordinator CLI', () => {
  it('starts, prints its URL, serves, and leaves on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/coordinator/cli.ts', '--port', '0', '--max-clients', '10'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = out.match(/listening: (http:\/\/\S+)/);
        if (match) resolve(match[1] as string);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    const info = await fetch(`${url}/`).then((r) => r.json());
    expect(info.name).toBe('PeerJS Server');
    const a = await signal(url, 'cli-a');
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await a.closed).toMatchObject({ code: CloseCode.goingAway });
    expect(await exit).toBe(0);
  }, 30_000);

  it('refuses a bad flag with a clear message', async () => {
    const { spawnSync } = await import('node:child_process');
    const out = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/coordinator/cli.ts', '--messages-per-second', 'lots'],
      { encoding: 'utf8' },
    );
    expect(out.status).toBe(2);
    expect(out.stderr).toContain('--messages-per-second must be a whole number');
  }, 30_000);
});
