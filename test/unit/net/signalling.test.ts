// The signalling socket and the WebRTC negotiation over it, against a real coordinator (and a
// hostile stand-in for one): seats taken and refused, messages relayed, a dial to a peer that
// is not there failing typed, a coordinator that restarts, and garbage ignored.
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { type Coordinator, startCoordinator } from '../../../src/coordinator/coordinator.ts';
import { PeerGoneError } from '../../../src/errors.ts';
import { type Signal, Signalling, SignallingRefused } from '../../../src/net/signalling.ts';
import { WebRtcPeers } from '../../../src/net/webrtc.ts';
import { installGlobals } from '../../../src/node/globals.ts';

let coordinator: Coordinator | undefined;
const open: Signalling[] = [];
beforeAll(() => installGlobals());
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await coordinator?.close();
  coordinator = undefined;
});

interface Seat {
  readonly signalling: Signalling;
  readonly signals: Signal[];
  readonly statuses: string[];
  next(type: Signal['type']): Promise<Signal>;
}

function seat(url: string, id: string, token = `t-${id}`): Seat {
  const signals: Signal[] = [];
  const statuses: string[] = [];
  const waiters: { type: string; resolve: (s: Signal) => void }[] = [];
  const signalling = new Signalling({
    url,
    id,
    token,
    onSignal: (signal) => {
      signals.push(signal);
      const w = waiters.find((w) => w.type === signal.type);
      if (w !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(signal);
      }
    },
    onStatus: (up, reason) => statuses.push(`${up ? 'up' : 'down'}: ${reason}`),
  });
  open.push(signalling);
  const next = (type: string) =>
    new Promise<Signal>((resolve) => {
      const had = signals.find((s) => s.type === type);
      if (had !== undefined) resolve(had);
      else waiters.push({ type, resolve });
    });
  return { signalling, signals, statuses, next };
}

const offer = { type: 'data', connectionId: 'dc_1', serialization: 'raw', reliable: true };
const sdp = { type: 'offer', sdp: 'v=0' };

describe('the signalling socket', () => {
  it('takes a seat, relays messages between seats, and refuses an id held with another token', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const url = `${coordinator.url.replace('http', 'ws')}/peerjs`;
    const [a, b] = [seat(url, 'sig-a'), seat(url, 'sig-b')];
    await Promise.all([a.signalling.open(), b.signalling.open()]);
    a.signalling.send('OFFER', 'sig-b', { ...offer, sdp });
    const got = await b.next('OFFER');
    expect(got).toEqual({ type: 'OFFER', src: 'sig-a', payload: { ...offer, sdp } });

    const thief = seat(url, 'sig-a', 'another-token');
    const refused = await thief.signalling.open().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SignallingRefused);
    expect((refused as SignallingRefused).kind).toBe('taken');
  });

  it('lets the same id and token take its seat back (a reload) and be told so', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const url = `${coordinator.url.replace('http', 'ws')}/peerjs`;
    const first = seat(url, 'sig-reload', 'same');
    await first.signalling.open();
    const again = seat(url, 'sig-reload', 'same');
    await again.signalling.open(); // would wait forever without the coordinator's OPEN
    const other = seat(url, 'sig-other');
    await other.signalling.open();
    other.signalling.send('ANSWER', 'sig-reload', { connectionId: 'dc_2', sdp });
    expect((await again.next('ANSWER')).src).toBe('sig-other');
  });

  it('says down when the coordinator goes and up when it is back, then relays again', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const { port } = coordinator;
    const url = `${coordinator.url.replace('http', 'ws')}/peerjs`;
    const a = seat(url, 'sig-up');
    await a.signalling.open();
    await coordinator.close();
    coordinator = await startCoordinator({ port });
    await expect.poll(() => a.statuses, { timeout: 10_000 }).toHaveLength(2);
    expect(a.statuses[0]).toMatch(/^down: signalling connection lost: .*shutting down/);
    expect(a.statuses[1]).toBe('up: signalling connection back');
    const b = seat(url, 'sig-b2');
    await b.signalling.open();
    b.signalling.send('CANDIDATE', 'sig-up', {
      connectionId: 'dc_3',
      candidate: { candidate: '' },
    });
    expect((await a.next('CANDIDATE')).src).toBe('sig-b2');
  });

  it('fails a WebRTC dial to a peer that never collects its offer with PeerGoneError', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const url = `${coordinator.url.replace('http', 'ws')}/peerjs`;
    let peers: WebRtcPeers | undefined;
    const signalling = new Signalling({
      url,
      id: 'sig-dialer',
      token: 't',
      onSignal: (signal) => peers?.receive(signal),
      onStatus: () => undefined,
    });
    open.push(signalling);
    await signalling.open();
    peers = new WebRtcPeers((type, dst, payload) => signalling.send(type, dst, payload), []);
    const dial = peers.dial('sig-ghost');
    await expect(dial).rejects.toThrow(PeerGoneError);
    await expect(dial).rejects.toThrow(/not connected to the coordinator/);
    peers.close();
  }, 20_000);

  it('ignores what a hostile coordinator sends that is not a well-formed message', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (ws) => {
      for (const junk of [
        '{',
        '"OPEN"',
        JSON.stringify({ type: 'OFFER', src: '../etc', payload: {} }),
        JSON.stringify({ type: 'EVAL', src: 'x', payload: {} }),
        JSON.stringify({ type: 'OPEN' }),
        JSON.stringify({ type: 'OFFER', src: 'honest', payload: { connectionId: 'dc_4' } }),
      ])
        ws.send(junk);
    });
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const a = seat(`ws://127.0.0.1:${port}/peerjs`, 'sig-victim');
      await a.signalling.open();
      await a.next('OFFER');
      expect(a.signals).toEqual([
        { type: 'OFFER', src: 'honest', payload: { connectionId: 'dc_4' } },
      ]);
    } finally {
      for (const s of open.splice(0)) s.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
