import type { DataConnection, PeerError } from 'peerjs';
import * as peerjs from 'peerjs';
import { CoordinatorError, PeerGoneError } from '../errors.ts';
import type { Resources } from '../resources.ts';
import { importSecret, roomKey } from './auth.ts';
import type { Channel } from './channel.ts';
import type { FramingOptions } from './framing.ts';
import { claimIdentity, type Identity } from './identity.ts';
import { openLanes, type SameBrowserOption } from './lanes.ts';
import { type Connector, type DirectoryEvent, Mesh } from './mesh.ts';
import { RoomClient } from './room-client.ts';

/** PeerJS's `Peer`: a named export of its ES build, under `default` in its CommonJS one (Node.js). */
const Peer: typeof peerjs.Peer =
  peerjs.Peer ?? (peerjs as unknown as { default: typeof peerjs }).default.Peer;
type Peer = peerjs.Peer;

/** Options of {@link createPeerJsTransport}. */
export interface PeerJsTransportOptions {
  /** The coordinator's URL, e.g. `http://127.0.0.1:9000/handout`. */
  readonly coordinator: string;
  /** @default 'default' */
  readonly room?: string | undefined;
  /** @default kept per tab in sessionStorage, else `crypto.randomUUID()` */
  readonly id?: string | undefined;
  readonly capabilities?: Resources | undefined;
  /** Only peers that know it can meet this one. @default none */
  readonly secret?: string | undefined;
  /** STUN/TURN servers for real networks. @default [] (enough on one machine or LAN) */
  readonly iceServers?: RTCIceServer[] | undefined;
  readonly heartbeatMs?: number | undefined;
  readonly deadAfterMs?: number | undefined;
  readonly framing?: FramingOptions | undefined;
  /** Give up connecting to the coordinator after this long. @default 10000 */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Tabs of this browser in the room talk over MessagePorts, not WebRTC (see `openLanes`);
   * `false` keeps every peer on WebRTC, a function makes the broker's SharedWorker.
   * @default true where SharedWorker exists
   */
  readonly sameBrowser?: SameBrowserOption;
}

const DIAL_TIMEOUT_MS = 15_000;

/**
 * Joins a room through the coordinator and talks to its peers over WebRTC data channels
 * (ordered, reliable, one per peer pair), via PeerJS. Survives a restart of the coordinator:
 * peer channels stay up while it reconnects.
 */
export async function createPeerJsTransport(options: PeerJsTransportOptions): Promise<Mesh> {
  const url = new URL(options.coordinator);
  const secure = url.protocol === 'https:';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const secret = options.secret === undefined ? undefined : await importSecret(options.secret);
  const room = await roomKey(options.room ?? 'default', secret);
  const session = crypto.randomUUID();
  const identity = await claimIdentity(options.id, url.href);

  const peer = await openPeer(
    identity,
    {
      host: url.hostname,
      port: Number(url.port || (secure ? 443 : 80)),
      path,
      secure,
      key: 'peerjs',
      token: identity.token,
      debug: 0,
      config: { iceServers: options.iceServers ?? [] },
    },
    options.connectTimeoutMs ?? 10_000,
    url.href,
  );

  let onStatus: (up: boolean, reason: string) => void = () => undefined;
  let onDirectory: (event: DirectoryEvent) => void = () => undefined;
  const rooms = new RoomClient({
    url: `${secure ? 'wss' : 'ws'}://${url.host}${path === '/' ? '' : path}/rooms`,
    id: identity.id,
    token: identity.token,
    room,
    session,
    onEvent: (event) => onDirectory(event),
    onStatus: (up, reason) => onStatus(up, reason),
  });
  const dials = new Map<string, (error: Error) => void>();
  /** What the coordinator said when it last dropped us (a PeerJS `ERROR` message). */
  let refusal = '';
  peer.on('error', (error: PeerError<string>) => {
    if (error.type === 'server-error') refusal = `: ${error.message}`;
    if (error.type === 'peer-unavailable') {
      for (const [id, fail] of dials)
        if (error.message.includes(id))
          fail(new PeerGoneError(id, 'not connected to the coordinator'));
    }
  });
  keepConnected(
    peer,
    () => {
      refusal = '';
      rooms.poke();
    },
    (up, reason) => onStatus(up, `${reason}${refusal}`),
  );

  const lanes = await openLanes({
    room,
    id: identity.id,
    session,
    sameBrowser: options.sameBrowser,
  });
  const webrtc = (peerId: string) =>
    new Promise<Channel>((resolve, reject) => {
      const conn = peer.connect(peerId, { reliable: true, serialization: 'raw' });
      const fail = (error: Error) => {
        clearTimeout(timer);
        dials.delete(peerId);
        conn.close();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new PeerGoneError(peerId, 'connection timed out')),
        DIAL_TIMEOUT_MS,
      );
      dials.set(peerId, fail);
      conn.on('open', () => {
        clearTimeout(timer);
        dials.delete(peerId);
        resolve(channelOf(conn));
      });
      conn.on('error', (error) => fail(error));
    });
  const connector: Connector = {
    // A tab of this browser over its lane; everyone else, and a lane that broke, over WebRTC.
    dial: async (peerId) => (await lanes?.dial(peerId)) ?? webrtc(peerId),
    onIncoming: (handler) => {
      lanes?.onIncoming(handler);
      peer.on('connection', (conn: DataConnection) => {
        // Only channels as Handout opens them; anything else is not ours to speak to.
        if (!conn.reliable || conn.serialization !== 'raw') {
          conn.close();
          return;
        }
        conn.on('open', () => handler(conn.peer, channelOf(conn)));
      });
    },
    onDirectory: (handler) => {
      onDirectory = handler;
    },
    onCoordinator: (handler) => {
      onStatus = handler;
    },
    close: async () => {
      lanes?.close();
      rooms.close();
      identity.release();
      peer.destroy();
    },
  };
  const mesh = new Mesh(
    identity.id,
    {
      selfId: identity.id,
      session,
      room,
      capabilities: options.capabilities ?? {},
      secret,
      heartbeatMs: options.heartbeatMs,
      deadAfterMs: options.deadAfterMs,
      framing: options.framing,
    },
    connector,
  );
  try {
    await rooms.start();
  } catch (error) {
    await mesh.close();
    throw new CoordinatorError(url.href, `could not join room: ${String(error)}`, { cause: error });
  }
  return mesh;
}

/** An RTCDataChannel as a {@link Channel}: our own framing and backpressure, PeerJS's signalling. */
function channelOf(conn: DataConnection): Channel {
  const dc = conn.dataChannel;
  dc.binaryType = 'arraybuffer';
  return {
    lane: 'webrtc',
    send: (data) => dc.send(data as Uint8Array<ArrayBuffer>),
    get bufferedAmount() {
      return dc.bufferedAmount;
    },
    onDrain(threshold, listener) {
      dc.bufferedAmountLowThreshold = threshold;
      dc.addEventListener('bufferedamountlow', listener);
    },
    onMessage(listener) {
      dc.addEventListener('message', (event: MessageEvent) => {
        if (event.data instanceof ArrayBuffer) listener(event.data);
      });
    },
    onClose(listener) {
      let done = false;
      const once = () => {
        if (done) return;
        done = true;
        listener();
      };
      conn.on('close', once);
      dc.addEventListener('close', once);
    },
    close: () => conn.close(),
  };
}

type PeerOptions = ConstructorParameters<typeof Peer>[1];

/**
 * Opens the signalling connection. `unavailable-id` right after a reload means the server still
 * holds the old socket: wait and retry before giving up.
 */
async function openPeer(
  identity: Identity,
  options: PeerOptions,
  timeoutMs: number,
  url: string,
): Promise<Peer> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const peer = new Peer(identity.id, options);
    const outcome = await new Promise<'open' | PeerError<string>>((resolve) => {
      const timer = setTimeout(
        () =>
          resolve(Object.assign(new Error('timed out'), { type: 'timeout' }) as PeerError<string>),
        Math.max(0, deadline - Date.now()),
      );
      peer.once('open', () => {
        clearTimeout(timer);
        resolve('open');
      });
      peer.once('error', (error: PeerError<string>) => {
        clearTimeout(timer);
        resolve(error);
      });
    });
    if (outcome === 'open') return peer;
    peer.destroy();
    if (outcome.type === 'unavailable-id' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
      continue;
    }
    throw new CoordinatorError(
      url,
      `cannot connect as ${identity.id}: ${outcome.type} ${outcome.message}`,
      { cause: outcome },
    );
  }
}

/** Reconnects the signalling socket with backoff whenever it drops. */
function keepConnected(
  peer: Peer,
  reopened: () => void,
  status: (up: boolean, reason: string) => void,
): void {
  let attempt = 0;
  peer.on('disconnected', () => {
    if (peer.destroyed) return;
    status(false, 'signalling connection lost');
    const retry = () => {
      if (peer.destroyed || !peer.disconnected) return;
      peer.reconnect();
      setTimeout(retry, Math.min(5000, 500 * 2 ** attempt++));
    };
    setTimeout(retry, 250);
  });
  peer.on('open', () => {
    attempt = 0;
    reopened();
  });
}
