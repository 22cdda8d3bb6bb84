import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import { type RoomEvent, type RoomSocket, Rooms } from '../../src/coordinator/rooms.ts';

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
  it('tells a newcomer the members, the members the newcomer, and nothing across rooms', () => {
    const log: string[] = [];
    const rooms = new Rooms((event, room, id) => log.push(`${event} ${room} ${id}`));
    const [a, b, x] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's-a', a);
    rooms.join('r', 'b', 's-b', b);
    rooms.join('other', 'x', 's-x', x);
    expect(a.got).toEqual([
      { type: 'members', members: [] },
      { type: 'join', id: 'b', session: 's-b' },
    ]);
    expect(b.got).toEqual([{ type: 'members', members: [{ id: 'a', session: 's-a' }] }]);
    expect(x.got).toEqual([{ type: 'members', members: [] }]);
    rooms.leave('r', 'b', b);
    expect(a.got.at(-1)).toEqual({ type: 'leave', id: 'b' });
    expect(rooms.snapshot()).toEqual({ r: ['a'], other: ['x'] });
    expect(log).toEqual(['join r a', 'join r b', 'join other x', 'leave r b']);
  });

  it('lets a reloaded node take over its seat; the stale socket leaving changes nothing', () => {
    const rooms = new Rooms();
    const [a, old, fresh] = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's1', a);
    rooms.join('r', 'b', 'old', old);
    rooms.join('r', 'b', 'new', fresh);
    expect(old.closed).toBe(4000);
    expect(a.got.at(-1)).toEqual({ type: 'join', id: 'b', session: 'new' });
    rooms.leave('r', 'b', old);
    expect(rooms.snapshot()).toEqual({ r: ['a', 'b'] });
  });

  it('evicts an id from every room when its signalling connection goes', () => {
    const rooms = new Rooms();
    const [a, b] = [new FakeSocket(), new FakeSocket()];
    rooms.join('r', 'a', 's', a);
    rooms.join('r', 'b', 's', b);
    rooms.evict('b');
    expect(b.closed).toBe(4001);
    expect(a.got.at(-1)).toEqual({ type: 'leave', id: 'b' });
  });
});

describe('coordinator', () => {
  let coordinator: Coordinator | undefined;
  afterEach(async () => {
    await coordinator?.close();
  });

  function roomSocket(url: string, query: Record<string, string>) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/rooms?${new URLSearchParams(query)}`);
    return new Promise<{ code: number; reason: string }>((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.on('error', () => undefined);
    });
  }

  it('serves PeerJS signalling with discovery off, under its path', async () => {
    coordinator = await startCoordinator({ port: 0 });
    expect(coordinator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/handout$/);
    const info = await fetch(`${coordinator.url}/`).then((r) => r.json());
    expect(info.name).toBe('PeerJS Server');
    expect((await fetch(`${coordinator.url}/peerjs/peers`)).status).toBe(401);
  });

  it('refuses a room member without a signalling connection of that id and token', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const outcome = await roomSocket(coordinator.url, {
      id: 'abc',
      token: 't',
      room: 'r',
      session: 's',
    });
    expect(outcome.code).toBe(4401);
    expect(coordinator.rooms()).toEqual({});
    const malformed = await roomSocket(coordinator.url, {
      id: 'bad id!',
      token: 't',
      room: 'r',
      session: 's',
    });
    expect(malformed.code).toBe(4400);
  });
});

describe('handout-coordinator CLI', () => {
  it('starts, prints its URL, serves, and leaves on SIGINT', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/coordinator/cli.ts', '--port', '0'],
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
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 30_000);
});
