import type { Resources } from '../resources.ts';
import { proof, randomNonce, type Secret, sameBytes } from './auth.ts';
import { type Message, message } from './protocol.ts';

/**
 * A link's handshake, from its first frame to `ready`: `hello` both ways (ids, room, nonces; a
 * dialled side, of a WebRTC channel or a lane, sends its own only on the dialler's), then with
 * a secret `auth` both ways (each proves it holds the secret for the other's nonce), then
 * `ready` with capabilities. Nothing but handshake messages, heartbeats and `bye` is accepted
 * before `ready`.
 */
export interface HandshakeOptions {
  readonly selfId: string;
  readonly session: string;
  readonly room: string;
  readonly capabilities: Resources;
  readonly secret?: Secret | undefined;
}

/** What the handshake asks of its link. */
export interface HandshakeSide {
  send(msg: Message): void;
  /** The peer broke the handshake: the link is refused. */
  refuse(detail: string): void;
  /** Both sides are ready: the peer's capabilities. */
  ready(capabilities: Resources): void;
  /** A heartbeat or `bye` during the handshake, handled as after it. */
  other(msg: Extract<Message, { t: 'ping' | 'pong' | 'bye' }>): void;
}

/** A link's handshake, from {@link startHandshake}. */
export interface Handshake {
  /** The peer's session, once its hello came. */
  readonly peerSession: string | undefined;
  /** Whether this side said `ready` (before it, the peer cannot be ready either). */
  readonly sentReady: boolean;
  /** This side's `hello`, once: the dialler's first word, or the dialled side's answer. */
  hello(): void;
  /** Takes one message of the handshake; a proof is checked asynchronously. */
  take(msg: Message): Promise<void>;
}

/** Starts the handshake of a link to `peerId`: what it sends and how it ends go to `side`. */
export function startHandshake(
  peerId: string,
  options: HandshakeOptions,
  side: HandshakeSide,
): Handshake {
  const nonce = randomNonce();
  const { selfId, secret } = options;
  let peerHello = false;
  let sentHello = false;
  let verified = secret === undefined;
  let sentReady = false;
  let peerSession: string | undefined;
  const hello = () => {
    if (sentHello) return;
    sentHello = true;
    const { session, room } = options;
    side.send(message({ t: 'hello', id: selfId, session, room, nonce }));
  };
  const ready = () => {
    if (sentReady) return;
    sentReady = true;
    side.send(message({ t: 'ready', capabilities: options.capabilities }));
  };
  return {
    get peerSession() {
      return peerSession;
    },
    get sentReady() {
      return sentReady;
    },
    hello,
    async take(msg) {
      switch (msg.t) {
        case 'hello':
          if (msg.id !== peerId) return side.refuse(`hello from ${msg.id} on ${peerId}'s channel`);
          if (msg.room !== options.room) return side.refuse('peer is in another room');
          hello(); // a dialled side's first word
          peerHello = true;
          peerSession = msg.session;
          if (secret === undefined) return ready();
          return side.send(
            message({ t: 'auth', proof: await proof(secret, msg.nonce, selfId, peerId) }),
          );
        case 'auth': {
          if (secret === undefined || !peerHello) return side.refuse('unexpected auth');
          const expected = await proof(secret, nonce, peerId, selfId);
          if (!sameBytes(expected, msg.proof)) return side.refuse('wrong secret');
          verified = true;
          return ready();
        }
        case 'ready':
          if (!verified || !peerHello) return side.refuse('ready before authentication');
          ready();
          return side.ready(msg.capabilities);
        case 'ping':
        case 'pong':
        case 'bye':
          return side.other(msg);
        default:
          return side.refuse(`${msg.t} before the handshake ended`);
      }
    },
  };
}
