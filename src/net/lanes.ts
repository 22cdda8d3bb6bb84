import type { Channel } from './channel.ts';
import type { BrokerReply, BrokerRequest } from './lane-broker.ts';
import { holdLock, webLocks } from './locks.ts';
import { livenessLock, portChannel, TAB_GONE } from './port-channel.ts';

/** How a node finds the tabs of its browser: on by default where SharedWorker exists. */
export type SameBrowserOption = boolean | (() => SharedWorker) | undefined;

export interface LaneOptions {
  /** The room key (an HMAC of the room name when there is a secret). */
  readonly room: string;
  readonly id: string;
  readonly session: string;
  readonly sameBrowser: SameBrowserOption;
}

/** Lanes to the tabs of this browser that are in the same room. */
export interface Lanes {
  /** A lane to the peer, or undefined when it is not a tab of this browser (use WebRTC). */
  dial(peerId: string): Promise<Channel | undefined>;
  onIncoming(handler: (peerId: string, channel: Channel) => void): void;
  close(): void;
}

/** Waits for the broker's answers this long before going without it (WebRTC). */
const BROKER_TIMEOUT_MS = 3000;
/** A lane closed for one of these is broken: that peer is reached over WebRTC from then on. */
const BROKE = /send failed|lane refused|no heartbeat|handshake timed out/;

/**
 * Joins this browser's lane broker (a SharedWorker) with the room key, id and session, holding
 * the session's liveness lock for the node's life. Undefined where SharedWorker or Web Locks are
 * missing, when `sameBrowser` is false, or when the broker does not answer: then every peer is
 * reached over WebRTC, as before.
 */
export async function openLanes(options: LaneOptions): Promise<Lanes | undefined> {
  const locks = webLocks();
  if (options.sameBrowser === false || locks === undefined) return undefined;
  if (typeof SharedWorker === 'undefined' && typeof options.sameBrowser !== 'function')
    return undefined;
  // A lock of a fresh session is free: held at once.
  const release = (await holdLock(locks, livenessLock(options.session))) as () => void;
  let worker: SharedWorker;
  try {
    worker =
      typeof options.sameBrowser === 'function'
        ? options.sameBrowser()
        : new SharedWorker(new URL('./lane-broker.ts', import.meta.url), {
            type: 'module',
            name: 'handout-lanes',
          });
  } catch {
    release();
    return undefined;
  }
  const broker = worker.port;
  const waiting = new Map<number, (reply: Extract<BrokerReply, { t: 'dialed' }>) => void>();
  let joined: (ok: boolean) => void = () => undefined;
  let incoming: (peerId: string, channel: Channel) => void = () => undefined;
  /** Peer id -> the session whose lane broke: that session is reached over WebRTC. */
  const avoid = new Map<string, string>();
  // Each end says which side asked for it, so when two tabs dial each other at once both keep
  // the same lane of the two (as with WebRTC), rather than each retiring the other's.
  const lane = (port: MessagePort, peerId: string, session: string, answers: boolean) =>
    portChannel(
      port,
      session,
      (reason) => {
        if (reason !== TAB_GONE && BROKE.test(reason)) avoid.set(peerId, session);
      },
      answers,
    );

  broker.onmessage = (event: MessageEvent) => {
    const reply = event.data as BrokerReply;
    if (reply.t === 'joined') joined(true);
    else if (reply.t === 'dialed') waiting.get(reply.n)?.(reply);
    else if (reply.t === 'incoming') {
      if (avoid.get(reply.from) === reply.session) {
        reply.port.postMessage({ close: 'lane refused' });
        reply.port.close();
      } else {
        incoming(reply.from, lane(reply.port, reply.from, reply.session, true));
      }
    }
  };
  worker.onerror = () => joined(false);
  broker.start();
  const post = (request: BrokerRequest) => broker.postMessage(request);
  post({ t: 'join', room: options.room, id: options.id, session: options.session });
  const ok = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), BROKER_TIMEOUT_MS);
    joined = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
  });
  if (!ok) {
    broker.close();
    release();
    return undefined;
  }
  let next = 0;
  let closed = false;
  return {
    dial(peerId) {
      if (closed) return Promise.resolve(undefined);
      const n = next++;
      return new Promise<Channel | undefined>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(n);
          resolve(undefined);
        }, BROKER_TIMEOUT_MS);
        waiting.set(n, (reply) => {
          clearTimeout(timer);
          waiting.delete(n);
          const { port, session } = reply;
          resolve(
            port === null || session === null ? undefined : lane(port, peerId, session, false),
          );
        });
        const unless = avoid.get(peerId);
        post({ t: 'dial', n, to: peerId, ...(unless === undefined ? {} : { unless }) });
      });
    },
    onIncoming(handler) {
      incoming = handler;
    },
    close() {
      if (closed) return;
      closed = true;
      post({ t: 'leave' });
      broker.close();
      release();
    },
  };
}
