import { Emitter } from '../emitter.ts';
import { PeerGoneError } from '../errors.ts';
import type { Channel } from './channel.ts';
import { type AppMessage, Link, type LinkOptions } from './link.ts';
import type { Listener, PeerInfo, Traffic, Transport, TransportEvents } from './transport.ts';

/** Room membership as the coordinator reports it: who may be dialled. */
export type DirectoryEvent =
  | { readonly type: 'members'; readonly members: readonly Member[] }
  | ({ readonly type: 'join' } & Member)
  | { readonly type: 'leave'; readonly id: string };

/** A room member: its id and the session of the node instance behind it. */
export interface Member {
  readonly id: string;
  readonly session: string;
}

/** What a concrete transport provides: channels to peers and the room's directory. */
export interface Connector {
  dial(peerId: string): Promise<Channel>;
  /** Registers the handler of channels other peers open to us (`dialer` is that peer). */
  onIncoming(handler: (peerId: string, channel: Channel) => void): void;
  onDirectory(handler: (event: DirectoryEvent) => void): void;
  onCoordinator(handler: (up: boolean, reason: string) => void): void;
  close(): Promise<void>;
}

interface Entry {
  readonly link: Link;
  /** Who opened the channel; of two channels to one peer, the lower id's dial wins. */
  readonly dialer: string;
  info: PeerInfo | undefined;
}

interface Queued {
  readonly msg: AppMessage;
  resolve(): void;
  reject(error: unknown): void;
}

/** If the lower id has not dialled us this long after we learned of each other, we dial. */
const FALLBACK_DIAL_MS = 3000;
/**
 * A duplicate channel meets a link this silent (heartbeats come every second): the link is
 * asked to answer within {@link PROBE_MS}, and yields to the new channel only if it does not.
 */
const STALE_MS = 1500;
const PROBE_MS = 1000;
/** Wait before dialling again a room member whose channel failed. */
const REDIAL_MS = 1000;
/** A peer the coordinator says left is gone unless it answers within this. */
const LEFT_PROBE_MS = 1000;

/**
 * The peer-management core both transports share: one channel per peer pair (simultaneous
 * dials resolved the same way on both sides), links opened on first use or on discovery,
 * membership events once a peer's handshake is done.
 */
export class Mesh implements Transport {
  readonly #events = new Emitter<TransportEvents>();
  readonly #entries = new Map<string, Entry>();
  readonly #members = new Set<string>();
  readonly #dialing = new Map<string, Promise<void>>();
  /** Messages for peers whose channel is not ready yet. */
  readonly #waiting = new Map<string, Queued[]>();
  /** A new channel held while the quiet link it would replace is asked whether it is alive. */
  readonly #standby = new Map<string, { channel: Channel; dialer: string }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;
  #dropped = 0;

  constructor(
    readonly id: string,
    readonly options: LinkOptions,
    readonly connector: Connector,
  ) {
    connector.onIncoming((peerId, channel) => this.#adopt(peerId, channel, peerId));
    connector.onDirectory((event) => this.#directory(event));
    connector.onCoordinator((up, reason) =>
      up
        ? this.#events.emit('coordinator:up', {})
        : this.#events.emit('coordinator:down', { reason }),
    );
  }

  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const entry of this.#entries.values()) if (entry.info !== undefined) out.push(entry.info);
    return out;
  }

  traffic(): Record<string, Traffic> {
    const out: Record<string, Traffic> = {};
    for (const [id, entry] of this.#entries) out[id] = { ...entry.link.traffic };
    return out;
  }

  on<E extends keyof TransportEvents>(
    event: E,
    listener: Listener<TransportEvents[E]>,
  ): () => void {
    return this.#events.on(event, listener);
  }

  send(peerId: string, msg: AppMessage): Promise<void> {
    if (this.#closed) return Promise.reject(new PeerGoneError(peerId, 'this node is closed'));
    const entry = this.#entries.get(peerId);
    if (entry?.info !== undefined) {
      try {
        entry.link.send(msg);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (entry === undefined && !this.#members.has(peerId)) {
      return Promise.reject(new PeerGoneError(peerId, 'not in this room'));
    }
    // Not connected yet: the message waits for whichever channel to the peer wins, so losing a
    // race between two simultaneous dials never loses it.
    return new Promise<void>((resolve, reject) => {
      const waiting = this.#waiting.get(peerId) ?? [];
      this.#waiting.set(peerId, waiting);
      waiting.push({ msg, resolve, reject });
      if (waiting.length > 1 || entry !== undefined || this.#dialing.has(peerId)) return;
      if (this.id < peerId) {
        this.#dial(peerId).catch((error: unknown) => this.#rejectWaiting(peerId, error));
      } else {
        this.#fallbackDial(peerId); // the lower id dials us on discovery; this is the backstop
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const entry of [...this.#entries.values()]) entry.link.close('node closed', true);
    for (const { channel } of this.#standby.values()) channel.close();
    this.#standby.clear();
    for (const peerId of [...this.#waiting.keys()])
      this.#rejectWaiting(peerId, new PeerGoneError(peerId, 'this node closed'));
    await this.connector.close();
    this.#events.clear();
  }

  #directory(event: DirectoryEvent): void {
    if (this.#closed) return;
    if (event.type === 'leave') {
      this.#members.delete(event.id);
      this.#entries.get(event.id)?.link.probe(LEFT_PROBE_MS, 'left the room and did not answer');
      if (!this.#entries.has(event.id))
        this.#rejectWaiting(event.id, new PeerGoneError(event.id, 'left the room'));
      return;
    }
    const members = event.type === 'members' ? event.members : [event];
    if (event.type === 'members') this.#members.clear();
    for (const { id, session } of members) {
      if (id === this.id) continue;
      this.#members.add(id);
      const entry = this.#entries.get(id);
      // Same id, new session: the peer restarted (a reloaded tab); its old channel is dead.
      if (entry?.link.peerSession !== undefined && entry.link.peerSession !== session) {
        this.#drop(entry, 'peer restarted');
      } else if (entry !== undefined) {
        continue;
      }
      if (this.id < id) {
        void this.#dial(id).catch(() => undefined);
      } else {
        this.#fallbackDial(id);
      }
    }
  }

  /** The lower id dials; if its channel has not come in a while, the higher dials too. */
  #fallbackDial(id: string): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed && this.#members.has(id) && !this.#entries.has(id)) {
        this.#dial(id).catch((error: unknown) => {
          if (!this.#entries.has(id)) this.#rejectWaiting(id, error);
        });
      }
    }, FALLBACK_DIAL_MS);
    this.#timers.add(timer);
  }

  #dial(peerId: string): Promise<void> {
    const existing = this.#dialing.get(peerId);
    if (existing !== undefined) return existing;
    const dialing = this.connector
      .dial(peerId)
      .then((channel) => this.#adopt(peerId, channel, this.id))
      .finally(() => this.#dialing.delete(peerId));
    this.#dialing.set(peerId, dialing);
    return dialing;
  }

  /** Takes a newly opened channel, unless the pair already has the one that should win. */
  #adopt(peerId: string, channel: Channel, dialer: string): void {
    if (this.#closed || peerId === this.id) {
      channel.close();
      return;
    }
    const current = this.#entries.get(peerId);
    if (current !== undefined) {
      const preferred = this.id < peerId ? this.id : peerId;
      // A channel from the preferred side stays while it is alive. One that has been quiet may
      // be dead (the peer restarted) or only busy (a tab sending 32 MiB hears nothing back for
      // a while): it is asked, and yields only if it does not answer.
      if (current.dialer === preferred && dialer !== preferred) {
        if (current.link.silentMs < STALE_MS || current.link.state !== 'ready') {
          channel.close();
          return;
        }
        this.#standby.get(peerId)?.channel.close();
        this.#standby.set(peerId, { channel, dialer });
        current.link.probe(PROBE_MS, 'a new channel came and this one did not answer');
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          const held = this.#standby.get(peerId);
          if (held?.channel !== channel) return;
          this.#standby.delete(peerId);
          if (this.#entries.get(peerId) === current) channel.close(); // it answered: it stays
        }, PROBE_MS + 50);
        this.#timers.add(timer);
        return;
      }
      // The new channel wins: it is the preferred dial, or a fresh one from the same side
      // (the peer reloaded, or the old channel died unnoticed).
      this.#standby.get(peerId)?.channel.close();
      this.#standby.delete(peerId);
      this.#drop(current, 'replaced by a new channel');
    }
    const entry: Entry = {
      dialer,
      info: undefined,
      link: new Link(channel, peerId, this.options, {
        ready: (capabilities) => {
          entry.info = { id: peerId, capabilities, lane: channel.lane };
          this.#events.emit('peer:join', entry.info);
          const waiting = this.#waiting.get(peerId) ?? [];
          this.#waiting.delete(peerId);
          for (const { msg, resolve, reject } of waiting) {
            try {
              entry.link.send(msg);
              resolve();
            } catch (error) {
              reject(error);
            }
          }
        },
        message: (message) => this.#events.emit('message', { from: peerId, message }),
        dropped: (reason, detail) => {
          this.#dropped++;
          this.#events.emit('dropped', { from: peerId, reason, detail, total: this.#dropped });
        },
        closed: (reason) => {
          if (this.#entries.get(peerId) === entry) this.#drop(entry, reason);
        },
      }),
    };
    this.#entries.set(peerId, entry);
  }

  #rejectWaiting(peerId: string, error: unknown): void {
    const waiting = this.#waiting.get(peerId) ?? [];
    this.#waiting.delete(peerId);
    for (const { reject } of waiting) reject(error);
  }

  #drop(entry: Entry, reason: string): void {
    const peerId = entry.link.peerId;
    if (this.#entries.get(peerId) === entry) this.#entries.delete(peerId);
    entry.link.close(reason, false);
    // A link that did not answer its probe: the channel held in standby takes its place.
    const standby = this.#standby.get(peerId);
    if (standby !== undefined && !this.#closed) {
      this.#standby.delete(peerId);
      this.#adopt(peerId, standby.channel, standby.dialer);
    }
    if (!this.#members.has(peerId) || this.#closed)
      this.#rejectWaiting(peerId, new PeerGoneError(peerId, reason));
    if (entry.info !== undefined && !this.#closed) {
      this.#events.emit('peer:leave', { ...entry.info, reason });
    }
    // Still listed in the room (a partition, a dropped channel): try again, lower id first.
    if (!this.#closed && this.#members.has(peerId) && reason !== 'replaced by a new channel') {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (this.#closed || !this.#members.has(peerId) || this.#entries.has(peerId)) return;
        if (this.id < peerId) void this.#dial(peerId).catch(() => undefined);
        else this.#fallbackDial(peerId);
      }, REDIAL_MS);
      this.#timers.add(timer);
    }
  }
}
