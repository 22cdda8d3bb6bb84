// Each limit of the coordinator, against a real one: the client over it is closed with the stated
// code and reason, everyone else goes on as before.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import type { CoordinatorLimits } from '../../src/coordinator/limits.ts';
import { CloseCode } from '../../src/net/close-codes.ts';
import { type Client, isType, member, offer, roomSeenBy, signal } from './coordinator-clients.ts';

let coordinator: Coordinator | undefined;
const open: Client[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await coordinator?.close();
  coordinator = undefined;
});

async function start(limits: CoordinatorLimits = {}): Promise<string> {
  coordinator = await startCoordinator({ port: 0, limits });
  return coordinator.url;
}

const keep = <C extends Client>(c: C): C => {
  open.push(c);
  return c;
};

/** Two honest signalling clients; resolves once one's offer reached the other. */
async function honestPair(url: string): Promise<void> {
  const [a, b] = [keep(await signal(url, 'honest-a')), keep(await signal(url, 'honest-b'))];
  a.ws.send(offer('honest-b'));
  const got = await b.next((m) => isType(m, 'OFFER'));
  expect(got).toMatchObject({ src: 'honest-a', dst: 'honest-b' });
}

describe('coordinator limits', () => {
  it('input that is not a signalling message closes only its sender; the process goes on', async () => {
    const url = await start();
    const garbage: (string | Buffer)[] = [
      '{',
      'null',
      '5',
      '"text"',
      '[]',
      '{"type":"OFFER"}',
      '{"type":"OFFER","dst":"b","payload":{"connectionId":"c","type":"data","serialization":"evil","sdp":{"type":"offer","sdp":""}}}',
      '{"type":"CANDIDATE","dst":"b","payload":{"connectionId":"c"}}',
      '{"type":"EXPIRE","dst":"b"}',
      '{"type":"OFFER","dst":{"x":1},"payload":{}}',
      Buffer.from([0, 1, 2]),
    ];
    for (const [i, frame] of garbage.entries()) {
      const bad = await signal(url, `bad-${i}`);
      bad.ws.send(frame);
      const closed = await bad.closed;
      expect(closed.code, String(frame)).toBe(CloseCode.malformed);
      expect(bad.got).toContainEqual({ type: 'ERROR', payload: { msg: closed.reason } });
    }
    await honestPair(url);
    expect(coordinator?.health().dropped.malformed).toBe(garbage.length);
  });

  it('maxSignalBytes: a larger signalling message closes its sender', async () => {
    const url = await start({ maxSignalBytes: 2048 });
    const big = keep(await signal(url, 'big'));
    big.ws.send(offer('honest-b', 'a'.repeat(3000)));
    expect(await big.closed).toEqual({
      code: CloseCode.tooLarge,
      reason: expect.stringContaining('(limit 2048)'),
    });
    const huge = keep(await signal(url, 'huge'));
    huge.ws.send('x'.repeat(1 << 20)); // beyond what ws buffers at all
    expect((await huge.closed).code).toBe(CloseCode.messageTooBig);
    await honestPair(url);
  });

  it('maxRoomMessageBytes and listen-only room sockets', async () => {
    const url = await start({ maxRoomMessageBytes: 64 });
    const stay = keep(await member(url, 'stay', 'r'));
    const talker = keep(await member(url, 'talker', 'r'));
    talker.ws.send('hi');
    expect(await talker.closed).toMatchObject({
      code: CloseCode.malformed,
      reason: expect.stringContaining('only listen'),
    });
    const shouter = keep(await member(url, 'shouter', 'r'));
    shouter.ws.send('x'.repeat(65));
    expect((await shouter.closed).code).toBe(CloseCode.messageTooBig);
    await vi.waitFor(() => expect(coordinator?.rooms()).toEqual({ r: ['stay'] }));
    expect(stay.isOpen()).toBe(true);
  });

  it('maxIdLength and maxRoomNameLength', async () => {
    const url = await start({ maxIdLength: 16, maxRoomNameLength: 8 });
    const long = keep(await signal(url, 'x'.repeat(17)));
    expect(await long.closed).toMatchObject({
      code: CloseCode.badRequest,
      reason: expect.stringContaining('16'),
    });
    const room = keep(await member(url, 'ok-id', 'r'.repeat(9)));
    expect(await room.closed).toMatchObject({
      code: CloseCode.badRequest,
      reason: expect.stringContaining('room up to 8'),
    });
    const fine = keep(await member(url, 'x'.repeat(16), 'r'.repeat(8)));
    expect(fine.isOpen()).toBe(true);
  });

  it('maxSeatsPerId: one id cannot fill the coordinator with rooms', async () => {
    const url = await start({ maxSeatsPerId: 2 });
    const first = keep(await member(url, 'greedy', 'r1'));
    const second = keep(await member(url, 'greedy', 'r2', { signalling: false }));
    const third = keep(await member(url, 'greedy', 'r3', { signalling: false }));
    expect(await third.closed).toMatchObject({
      code: CloseCode.tooManySeats,
      reason: expect.stringContaining('2 rooms'),
    });
    expect(first.isOpen() && second.isOpen()).toBe(true);
    expect(coordinator?.rooms()).toEqual({ r1: ['greedy'], r2: ['greedy'] });
  });

  it('maxConnectionsPerAddress counts signalling and room sockets together', async () => {
    const url = await start({ maxConnectionsPerAddress: 3 });
    const a = keep(await member(url, 'a', 'r')); // two sockets
    const b = keep(await signal(url, 'b')); // the third
    const c = keep(await signal(url, 'c'));
    expect(await c.closed).toMatchObject({
      code: CloseCode.tooManyConnections,
      reason: expect.stringContaining('more than 3 connections'),
    });
    expect(c.got).toContainEqual({ type: 'ERROR', payload: { msg: expect.any(String) } });
    expect(a.isOpen() && b.isOpen()).toBe(true);
    b.ws.close();
    await b.closed;
    await vi.waitFor(async () => {
      const d = keep(await signal(url, 'd'));
      expect(d.isOpen()).toBe(true);
    });
  });

  it('messagesPerSecond: a flood closes the flooder, after a burst of four seconds worth', async () => {
    const url = await start({ messagesPerSecond: 10 });
    const flooder = keep(await signal(url, 'flooder'));
    for (let i = 0; i < 60; i++) flooder.ws.send('{"type":"HEARTBEAT"}');
    expect(await flooder.closed).toMatchObject({
      code: CloseCode.tooFast,
      reason: 'more than 10 messages a second',
    });
    expect(coordinator?.health().messages.signalling).toBe(40); // the burst went through
    await honestPair(url);
  });

  it('maxClients (PeerJS concurrent_limit): the next client is told the coordinator is full', async () => {
    const url = await start({ maxClients: 2 });
    keep(await signal(url, 'one'));
    keep(await signal(url, 'two'));
    const three = keep(await signal(url, 'three'));
    expect(await three.closed).toMatchObject({ code: CloseCode.full });
    expect(three.got).toContainEqual({
      type: 'ERROR',
      payload: { msg: 'the coordinator is full (2 clients)' },
    });
    await vi.waitFor(() => expect(coordinator?.health().clients.signalling).toBe(2));
  });

  it('aliveTimeoutMs (PeerJS alive_timeout): a silent client is dropped, a beating one stays', async () => {
    const url = await start({ aliveTimeoutMs: 6000 });
    // Silent through and through: no heartbeat, and no answer to the socket's pings either.
    const silent = keep(await member(url, 'silent', 'r', { autoPong: false }));
    const beating = keep(await member(url, 'beating', 'r'));
    const beat = setInterval(() => beating.signalling?.ws.send('{"type":"HEARTBEAT"}'), 1000);
    try {
      // The silent one's room seat goes with its signalling connection.
      expect((await silent.closed).code).toBe(CloseCode.evicted);
      expect(beating.isOpen() && beating.signalling?.isOpen()).toBe(true);
      await vi.waitFor(() => expect(roomSeenBy(beating)).toEqual(new Set(['beating'])));
    } finally {
      clearInterval(beat);
    }
  }, 20_000);

  it('a client whose page sends no heartbeat but whose browser answers pings stays (a hidden tab)', async () => {
    const url = await start({ aliveTimeoutMs: 6000 });
    // A hidden tab's timers run once a minute, so its own heartbeats come late; its browser
    // still answers the socket's protocol pings without the page.
    const hidden = keep(await member(url, 'hidden', 'r'));
    const silent = keep(await member(url, 'silent', 'r', { autoPong: false }));
    expect((await silent.closed).code).toBe(CloseCode.evicted);
    expect(hidden.isOpen() && hidden.signalling?.isOpen()).toBe(true);
    expect(hidden.signalling?.got.filter((m) => isType(m, 'ERROR'))).toEqual([]);
  }, 20_000);

  it('rejects limits that are not whole numbers, and unknown ones', async () => {
    await expect(startCoordinator({ port: 0, limits: { maxSignalBytes: -1 } })).rejects.toThrow(
      RangeError,
    );
    await expect(startCoordinator({ port: 0, limits: { aliveTimeoutMs: 1000 } })).rejects.toThrow(
      /at least 6000/,
    );
    await expect(
      startCoordinator({ port: 0, limits: { maxRooms: 3 } as CoordinatorLimits }),
    ).rejects.toThrow(/unknown coordinator limit/);
  });
});
