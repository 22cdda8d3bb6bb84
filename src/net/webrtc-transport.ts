import { CoordinatorError } from '../errors.ts';
import type { Resources } from '../resources.ts';
import { importSecret, roomKey } from './auth.ts';
import type { FramingOptions } from './framing.ts';
import { type ClaimedIdentity, claimIdentity } from './identity.ts';
import { openLanes, type SameBrowserOption } from './lanes.ts';
import { type Connector, type DirectoryEvent, Mesh } from './mesh.ts';
import { RoomClient } from './room-client.ts';
import {
  type Signal,
  Signalling,
  type SignallingOptions,
  SignallingRefused,
} from './signalling.ts';
import { WebRtcPeers } from './webrtc.ts';

/** Options of {@link createWebRtcTransport}. */
export interface WebRtcTransportOptions {
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
  /** A link unused this long closes; the next message opens it again. @default 60000 */
  readonly idleLinkMs?: number | undefined;
  /** Give up connecting to the coordinator after this long. @default 10000 */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * Tabs of this browser in the room talk over MessagePorts, not WebRTC (see `openLanes`);
   * `false` keeps every peer on WebRTC, a function makes the broker's SharedWorker.
   * @default true where SharedWorker exists
   */
  readonly sameBrowser?: SameBrowserOption;
}

/**
 * Joins a room through the coordinator and talks to its peers over WebRTC data channels
 * (ordered, reliable, one per peer pair), signalled through the coordinator's PeerJS server.
 * Survives a restart of the coordinator: peer channels stay up while it reconnects.
 */
export async function createWebRtcTransport(options: WebRtcTransportOptions): Promise<Mesh> {
  const url = new URL(options.coordinator);
  const secure = url.protocol === 'https:';
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const base = `${secure ? 'wss' : 'ws'}://${url.host}${path === '/' ? '' : path}`;
  const secret = options.secret === undefined ? undefined : await importSecret(options.secret);
  const room = await roomKey(options.room ?? 'default', secret);
  const session = crypto.randomUUID();
  const identity = await claimIdentity(options.id, url.href);

  let onStatus: (up: boolean, reason: string) => void = () => undefined;
  let onDirectory: (event: DirectoryEvent) => void = () => undefined;
  const rooms = new RoomClient({
    url: `${base}/rooms`,
    id: identity.id,
    token: identity.token,
    room,
    session,
    capabilities: options.capabilities ?? {},
    onEvent: (event) => onDirectory(event),
    onStatus: (up, reason) => onStatus(up, reason),
  });
  let webrtc: WebRtcPeers | undefined;
  const signalling = await openSignalling(
    identity,
    `${base}/peerjs`,
    {
      onSignal: (signal: Signal) => webrtc?.receive(signal),
      // Back: the room socket may come back now too. Down: said at once, channels stay up.
      onStatus: (up, reason) => (up ? rooms.poke() : onStatus(false, reason)),
    },
    options.connectTimeoutMs ?? 10_000,
    url.href,
  );
  webrtc = new WebRtcPeers(
    (type, dst, payload) => signalling.send(type, dst, payload),
    options.iceServers ?? [],
  );
  const peers = webrtc;
  const lanes = await openLanes({
    room,
    id: identity.id,
    session,
    sameBrowser: options.sameBrowser,
  });
  const connector: Connector = {
    // A tab of this browser over its lane; everyone else, and a lane that broke, over WebRTC.
    dial: async (peerId) => (await lanes?.dial(peerId)) ?? peers.dial(peerId),
    onIncoming: (handler) => {
      lanes?.onIncoming(handler);
      peers.onIncoming(handler);
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
      peers.close();
      signalling.close();
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
      idleLinkMs: options.idleLinkMs,
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

/**
 * Takes the signalling seat. The id being taken right after a reload means the coordinator
 * still holds the old page's socket (with another token): wait and retry before giving up.
 */
async function openSignalling(
  identity: ClaimedIdentity,
  url: string,
  events: Pick<SignallingOptions, 'onSignal' | 'onStatus'>,
  timeoutMs: number,
  coordinator: string,
): Promise<Signalling> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const signalling = new Signalling({ url, id: identity.id, token: identity.token, ...events });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SignallingRefused('closed', 'timed out')),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      await Promise.race([signalling.open(), timeout]);
      return signalling;
    } catch (error) {
      signalling.close();
      const refused =
        error instanceof SignallingRefused ? error : new SignallingRefused('error', String(error));
      if (refused.kind === 'taken' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
        continue;
      }
      identity.release();
      throw new CoordinatorError(
        coordinator,
        `cannot connect as ${identity.id}: ${refused.kind} ${refused.message}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
