import type { Resources } from '../resources.ts';
import { proof, randomNonce, type Secret, sameBytes } from './auth.ts';
import { type Message, message } from './protocol.ts';

/**
 * A link's handshake, from its first frame to `ready`: `hello` both ways (ids, room, nonces;
 * the dialled side of a WebRTC channel sends its own only on the dialler's), then with a secret
 * `auth` both ways (each proves it holds the secret for the other's nonce), then `ready` with
 * capabilities. Nothing but handshake messages, heartbeats and `bye` is accepted before `ready`.
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

export class Handshake {
  readonly #nonce = randomNonce();
  #peerHello = false;
  #sentHello = false;
  #verified: boolean;
  #sentReady = false;
  /** The peer's session, once its hello came. */
  peerSession: string | undefined;

  constructor(
    readonly peerId: string,
    readonly options: HandshakeOptions,
    readonly side: HandshakeSide,
  ) {
    this.#verified = options.secret === undefined;
  }

  /** Whether this side said `ready` (before it, the peer cannot be ready either). */
  get sentReady(): boolean {
    return this.#sentReady;
  }

  /** This side's `hello`, once: the dialler's first word, or the dialled side's answer. */
  hello(): void {
    if (this.#sentHello) return;
    this.#sentHello = true;
    const { selfId: id, session, room } = this.options;
    this.side.send(message({ t: 'hello', id, session, room, nonce: this.#nonce }));
  }

  /** Takes one message of the handshake; a proof is checked asynchronously. */
  async take(msg: Message): Promise<void> {
    const { side, options } = this;
    switch (msg.t) {
      case 'hello':
        if (msg.id !== this.peerId)
          return side.refuse(`hello from ${msg.id} on ${this.peerId}'s channel`);
        if (msg.room !== options.room) return side.refuse('peer is in another room');
        this.hello(); // a dialled side's first word
        this.#peerHello = true;
        this.peerSession = msg.session;
        if (options.secret === undefined) return this.#sendReady();
        return side.send(
          message({
            t: 'auth',
            proof: await proof(options.secret, msg.nonce, options.selfId, this.peerId),
          }),
        );
      case 'auth': {
        const { secret } = options;
        if (secret === undefined || !this.#peerHello) return side.refuse('unexpected auth');
        const expected = await proof(secret, this.#nonce, this.peerId, options.selfId);
        if (!sameBytes(expected, msg.proof)) return side.refuse('wrong secret');
        this.#verified = true;
        return this.#sendReady();
      }
      case 'ready':
        if (!this.#verified || !this.#peerHello) return side.refuse('ready before authentication');
        this.#sendReady();
        return side.ready(msg.capabilities);
      case 'ping':
      case 'pong':
      case 'bye':
        return side.other(msg);
      default:
        return side.refuse(`${msg.t} before the handshake ended`);
    }
  }

  #sendReady(): void {
    if (this.#sentReady) return;
    this.#sentReady = true;
    this.side.send(message({ t: 'ready', capabilities: this.options.capabilities }));
  }
}
