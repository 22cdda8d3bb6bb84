import type { Resources } from '../resources.ts';
import type { Secret } from './auth.ts';
import { type Channel, counting } from './channel.ts';
import { decode, encode } from './codec.ts';
import { FrameReader } from './frame-reader.ts';
import { FrameWriter, type FramingOptions } from './framing.ts';
import { type Handshake, startHandshake } from './handshake.ts';
import { type Heartbeat, startHeartbeat } from './heartbeat.ts';
import { type DropReason, type Message, message, parseMessage, type Retired } from './protocol.ts';

/** The messages a link hands to the layer above once it is ready. */
export type AppMessage = Extract<Message, { t: 'msg' | 'req' | 'res' }>;

export interface LinkOptions {
  readonly selfId: string;
  /** New each time this node starts; see the `hello` message. */
  readonly session: string;
  /** The room key; a peer in another room is refused. */
  readonly room: string;
  readonly capabilities: Resources;
  readonly secret?: Secret | undefined;
  /** @default 1000 */
  readonly heartbeatMs?: number | undefined;
  /** Declare the peer gone after this long without a frame. @default 3500 */
  readonly deadAfterMs?: number | undefined;
  /** @default 10000 */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Binaries at least this large stream out of line. @default 16384 */
  readonly attachmentBytes?: number | undefined;
  readonly framing?: FramingOptions | undefined;
}

export interface LinkEvents {
  ready(capabilities: Resources): void;
  message(message: AppMessage): void;
  dropped(reason: DropReason, detail: string): void;
  /** With `retired`, the peer retired the channel (see {@link Link.retire}): it has not left. */
  closed(reason: string, retired?: Retired): void;
}

type State = 'handshake' | 'ready' | 'retiring' | 'closed';

/** A retired channel is closed after this even if the peer never closes it. */
const RETIRE_MS = 5000;
/** A retired channel still sending a large message says bye when it is out, or after this. */
const DRAIN_MS = 120_000;

/**
 * One channel to one peer: its handshake (`handshake.ts`), then application messages both
 * ways. Heartbeats run from the first moment; a silent peer is declared gone.
 */
export class Link {
  #state: State = 'handshake';
  readonly #writer: FrameWriter;
  readonly #reader: FrameReader;
  readonly #shake: Handshake;
  /** Handshake messages are handled one after another, as verifying a proof is async. */
  #inbox: Promise<void> = Promise.resolve();
  readonly #heart: Heartbeat;
  /** When an application message last went either way. */
  #lastUsed = Date.now();
  /** Bytes this link handed to and took from its channel, framing included. */
  readonly traffic = { sent: 0, received: 0, streamed: 0 };
  /** Why this side is retiring the channel, once it is. */
  #retiring: Retired | undefined;
  readonly #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    readonly channel: Channel,
    readonly peerId: string,
    readonly options: LinkOptions,
    readonly events: LinkEvents,
  ) {
    this.#shake = startHandshake(peerId, options, {
      send: (msg) => this.#send(msg),
      refuse: (detail) => this.#refuse(detail),
      ready: (capabilities) => {
        this.#state = 'ready';
        this.events.ready(capabilities);
      },
      other: (msg) => this.#handle(msg),
    });
    // The pipe's framing (a MessagePort takes 768 KiB frames), unless the caller chose its own.
    const framing = { ...channel.framing, ...options.framing };
    this.#writer = new FrameWriter(counting(channel, this.traffic), framing);
    this.#reader = new FrameReader(
      (head, attachments) => this.#receive(head, attachments),
      (reason, detail) => events.dropped(reason, detail),
      framing,
    );
    // From the first moment, once the writer exists: a silent peer is gone even mid-handshake.
    this.#heart = startHeartbeat(
      {
        ping: (n) => this.#send(message({ t: 'ping', n })),
        gone: (reason) => this.close(reason, false),
        busy: () => this.busy,
      },
      options.heartbeatMs ?? 1000,
      options.deadAfterMs ?? 3500,
    );
    channel.onMessage((data) => {
      this.#heart.heard();
      this.traffic.received += data.byteLength;
      if (this.#reader.receiving) this.#lastUsed = Date.now(); // a large message arriving
      try {
        this.#reader.push(data);
        this.traffic.streamed = this.#reader.streamed;
      } catch (error) {
        events.dropped('malformed', String(error));
      }
    });
    // The channel of a link being retired closes as the retiring ends: a retire, not a loss.
    channel.onClose(() => this.close('channel closed', false, this.#retiring));
    const handshakeTimer = setTimeout(() => {
      if (this.#state === 'handshake') this.close('handshake timed out', false);
    }, options.handshakeTimeoutMs ?? 10_000);
    this.#timers.push(handshakeTimer);
    if (!channel.answers) this.#shake.hello();
  }

  /** The peer's session, once its hello came. */
  get peerSession(): string | undefined {
    return this.#shake.peerSession;
  }

  get state(): State {
    return this.#state;
  }

  /** Milliseconds since anything arrived from the peer. */
  get silentMs(): number {
    return this.#heart.silentMs;
  }

  /**
   * Asks the peer to answer now: the link closes unless something arrives within `timeoutMs`.
   * For when the coordinator says the peer left: a closed tab is then known gone in a moment
   * rather than after the heartbeat's `deadAfterMs`, and a peer that is only cut off from the
   * coordinator keeps its link.
   */
  probe(timeoutMs: number, reason: string): void {
    if (this.#state === 'ready') this.#heart.probe(timeoutMs, reason);
  }

  /** Milliseconds since an application message went either way. */
  get unusedMs(): number {
    return Date.now() - this.#lastUsed;
  }

  /** Bytes not yet out: queued in the writer, or handed to the channel and still buffered. */
  get #sending(): boolean {
    return this.#writer.pending > 0 || this.channel.bufferedAmount > 0;
  }

  /** A message still going out (more than a heartbeat queued), or one half received. */
  get busy(): boolean {
    return this.#writer.pending > 0 || this.channel.bufferedAmount > 1024 || this.#reader.receiving;
  }

  /**
   * Ends this channel while both nodes stay: `bye` with the reason, then nothing more is sent,
   * but what the peer sent before it heard the `bye` is still read, until the peer closes the
   * channel (or {@link RETIRE_MS} passes). Nothing in flight is lost either way.
   */
  retire(why: Retired): void {
    if (this.#state === 'closed' || this.#state === 'retiring') return;
    // Before our `ready` the peer cannot be ready either: it sent nothing to wait for.
    if (!this.#shake.sentReady) {
      this.#send(message({ t: 'bye', why }));
      return this.close(`retired (${why})`, false, why);
    }
    this.#state = 'retiring';
    this.#retiring = why;
    this.#stopTimers();
    // The bye goes after what is still going out (a small message would overtake a large one's
    // frames, and the peer would close before the rest came).
    this.#afterSent(
      () => this.#state === 'retiring',
      () => {
        this.#send(message({ t: 'bye', why }));
        const timer = setTimeout(() => this.close(`retired (${why})`, false, why), RETIRE_MS);
        this.#timers.push(timer);
      },
    );
  }

  /**
   * Runs `then` once nothing is left to go out (or after {@link DRAIN_MS}), unless `still` has
   * turned false meanwhile.
   */
  #afterSent(still: () => boolean, then: () => void): void {
    const until = Date.now() + DRAIN_MS;
    const check = () => {
      if (!still()) return;
      if (this.#sending && Date.now() < until) setTimeout(check, 20);
      else then();
    };
    check();
  }

  /** Sends an application message. Throws `CodecError` for a value that cannot travel. */
  send(msg: AppMessage): void {
    if (this.#state !== 'ready') throw new Error(`link to ${this.peerId} is ${this.#state}`);
    this.#lastUsed = Date.now();
    this.#writer.write(encode(msg, { attachmentBytes: this.options.attachmentBytes ?? 16_384 }));
  }

  close(reason: string, sayBye = true, retired?: Retired): void {
    if (this.#state === 'closed') return;
    if (sayBye && this.#state !== 'retiring') this.#send(message({ t: 'bye' }));
    this.#state = 'closed';
    this.#stopTimers();
    this.events.closed(reason, retired);
    const end = () => {
      this.#writer.close();
      this.channel.close(reason);
    };
    // Retired, not broken: a large message still going out finishes before the channel closes.
    if (retired === undefined) end();
    else this.#afterSent(() => true, end);
  }

  #stopTimers(): void {
    this.#heart.stop();
    for (const timer of this.#timers) clearTimeout(timer);
  }

  #send(msg: Message): void {
    if (this.#state === 'closed') return;
    try {
      this.#writer.write(encode(msg));
    } catch (error) {
      this.close(`send failed: ${String(error)}`, false);
    }
  }

  #receive(head: Uint8Array, attachments: ArrayBuffer[]): void {
    let value: unknown;
    try {
      value = decode(head, attachments);
    } catch (error) {
      this.events.dropped('malformed', String(error));
      return;
    }
    const parsed = parseMessage(value);
    if (!parsed.ok) {
      this.events.dropped(parsed.reason, parsed.detail);
      return;
    }
    const msg = parsed.message;
    if (this.#state === 'ready' || this.#state === 'retiring') {
      this.#handle(msg);
      return;
    }
    // Queued behind the handshake; by its turn the handshake may be done (a `ready` ahead of it).
    this.#inbox = this.#inbox
      .then(() => (this.#state === 'handshake' ? this.#shake.take(msg) : this.#handle(msg)))
      .catch((error: unknown) => {
        this.close(`handshake failed: ${String(error)}`, false);
      });
  }

  #bye(why: Retired | undefined): void {
    if (why === undefined) return this.close('peer left', false);
    // Everything the peer sent on this channel came before its bye: closing now loses nothing.
    this.close(`peer retired the channel (${why})`, false, why);
  }

  #refuse(detail: string): void {
    this.events.dropped('unauthenticated', detail);
    this.close(`refused: ${detail}`, false);
  }

  #handle(msg: Message): void {
    switch (msg.t) {
      case 'ping':
        return this.#send(message({ t: 'pong', n: msg.n }));
      case 'pong':
        return;
      case 'bye':
        return this.#bye(msg.why);
      case 'msg':
      case 'req':
      case 'res':
        this.#lastUsed = Date.now();
        return this.events.message(msg);
      case 'hello':
      case 'auth':
      case 'ready':
        // A channel retired mid-handshake still hears the rest of it: nothing to act on.
        if (this.#state === 'retiring') return;
        return this.events.dropped('unexpected', `${msg.t} after the handshake`);
      default: {
        const never: never = msg;
        return this.events.dropped('unknown-type', String(never));
      }
    }
  }
}
