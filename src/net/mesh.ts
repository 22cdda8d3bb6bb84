import { Emitter } from '../emitter.ts';
import { PeerGoneError } from '../errors.ts';
import type { Channel } from './channel.ts';
import type { Connector, DirectoryEvent, LinkStats, MeshOptions } from './connector.ts';
import { dialler, REDIAL_MS } from './dialler.ts';
import { type AppMessage, Link } from './link.ts';
import { type Entry, PeerLinks } from './peer-links.ts';
import type { Retired } from './protocol.ts';
import { type Member, Roster } from './roster.ts';
import type { Listener, PeerInfo, Traffic, Transport, TransportEvents } from './transport.ts';
import { WaitingMessages } from './waiting.ts';

export type { Connector, DirectoryEvent, LinkStats, Member, MeshOptions };

/** A second link to a peer (both dialled at once) is retired once unused this long. */
const EXTRA_IDLE_MS = 5000;
/**
 * A link unused this long whose channel the peer closed without a word lost nothing in flight:
 * while the coordinator lists its peer, that is a retire, not a leave (a hidden tab can see the
 * channel close before it has read the peer's `bye`, its tasks run that late). A link whose
 * peer fell silent (no heartbeat: a hung tab) is still a leave.
 */
const QUIET_MS = 10_000;
/** A peer the coordinator says left is gone unless it answers within this. */
const LEFT_PROBE_MS = 1000;
/** Past this many WebRTC connections made, idle links stay open (Chromium's cap is ~500). */
export const KEEP_LINKS_AFTER = 400;

/**
 * The peer-management core both transports share. Peers are known from the coordinator's room
 * list ({@link Roster}); a link is opened when there is something to send (two, when both sides
 * dial at once: the second is an extra, retired once unused) and closed again once idle. Losing
 * a peer's last link is its leave; a link retired because it is idle is not.
 */
export class Mesh implements Transport {
  readonly #events = new Emitter<TransportEvents>();
  readonly #entries: PeerLinks;
  readonly #roster = new Roster((id) => {
    const entry = this.#entries.get(id);
    return entry?.ready === true ? entry.capabilities : undefined;
  });
  readonly #waiting = new WaitingMessages();
  readonly #dialler = dialler({
    roster: this.#roster,
    waiting: this.#waiting,
    connect: (peerId) => this.connector.dial(peerId),
    adopt: (peerId, channel) => this.#adopt(peerId, channel),
    linked: (peerId) => this.#entries.has(peerId),
    update: (peerId, reason) => this.#update(peerId, reason),
    later: (ms, run) => this.#later(ms, run),
    closed: () => this.#closed,
  });
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stats = { opened: 0, peerConnections: 0 };
  #closed = false;
  #dropped = 0;

  constructor(
    readonly id: string,
    readonly options: MeshOptions,
    readonly connector: Connector,
  ) {
    this.#entries = new PeerLinks(id);
    connector.onIncoming((peerId, channel) => this.#adopt(peerId, channel));
    connector.onDirectory((event) => this.#directory(event));
    connector.onCoordinator((up, reason) =>
      up
        ? this.#events.emit('coordinator:up', {})
        : this.#events.emit('coordinator:down', { reason }),
    );
    const idleMs = options.idleLinkMs ?? 60_000;
    if (Number.isFinite(idleMs)) {
      const sweep = setInterval(() => this.#retireIdle(idleMs), Math.min(5000, idleMs / 2));
      (sweep as { unref?: () => void }).unref?.();
      this.#timers.add(sweep);
    }
  }

  peers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const [id, capabilities] of this.#roster.known()) {
      const entry = this.#entries.get(id);
      out.push({ id, capabilities, lane: entry?.ready ? entry.link.channel.lane : undefined });
    }
    return out;
  }

  links(): LinkStats {
    let open = 0;
    for (const [, entry] of this.#entries.mains()) if (entry.ready) open++;
    return { open, ...this.#stats };
  }

  traffic(): Record<string, Traffic> {
    const out: Record<string, Traffic> = {};
    for (const [id, entry] of this.#entries.mains()) out[id] = { ...entry.link.traffic };
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
    if (entry?.ready === true) {
      try {
        entry.link.send(msg);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (entry === undefined && this.#roster.listed(peerId) === undefined) {
      return Promise.reject(new PeerGoneError(peerId, 'not in this room'));
    }
    // Not linked yet: the message waits for whichever channel to the peer wins, so losing a
    // race between two simultaneous dials never loses it.
    const sent = this.#waiting.add(peerId, msg);
    if (entry === undefined) this.#dialler.dial(peerId);
    return sent;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const entry of this.#entries.all()) entry.link.close('node closed', true);
    this.#waiting.rejectAll((peerId) => new PeerGoneError(peerId, 'this node closed'));
    await this.connector.close();
    this.#events.clear();
  }

  #directory(event: DirectoryEvent): void {
    if (this.#closed) return;
    if (event.type === 'leave') return this.#unlisted(event.id);
    const members = event.type === 'members' ? event.members : [event];
    if (event.type === 'members') {
      const now = new Set(members.map((m) => m.id));
      for (const id of this.#roster.ids()) if (!now.has(id)) this.#unlisted(id);
    }
    for (const member of members) {
      if (member.id === this.id) continue;
      const before =
        this.#roster.listed(member.id)?.session ?? this.#entries.get(member.id)?.link.peerSession;
      // Same id, new session: the peer restarted (a reloaded tab); what it held is gone.
      if (before !== undefined && before !== member.session) this.#restarted(member.id);
      if (event.type === 'join') this.#dialler.reset(member.id); // news of it: dial afresh
      this.#roster.list(member);
      this.#update(member.id, '');
    }
  }

  /** Its old channel is dead and its work lost: a leave now, a join when it is listed again. */
  #restarted(id: string): void {
    const reason = 'peer restarted';
    for (const entry of this.#entries.clear(id)) entry.link.close(reason, false);
    this.#lost(id, reason);
  }

  /** The coordinator no longer lists the peer: gone, unless a link to it still answers. */
  #unlisted(id: string): void {
    this.#roster.unlist(id);
    this.#entries.get(id)?.link.probe(LEFT_PROBE_MS, 'left the room and did not answer');
    if (!this.#entries.has(id)) this.#waiting.reject(id, new PeerGoneError(id, 'left the room'));
    this.#update(id, 'left the room');
  }

  /**
   * Takes a newly opened channel: the peer's link, or, when both sides dialled at once, an extra
   * beside it. Nothing is replaced, so nothing in flight on either channel is lost.
   */
  #adopt(peerId: string, channel: Channel): void {
    this.#stats.opened++;
    if (channel.lane === 'webrtc') this.#stats.peerConnections++;
    if (this.#closed || peerId === this.id) {
      channel.close();
      return;
    }
    this.#entries.add(peerId, this.#link(peerId, channel));
  }

  #link(peerId: string, channel: Channel): Entry {
    const entry: Entry = {
      ready: false,
      capabilities: {},
      link: new Link(channel, peerId, this.options, {
        ready: (capabilities) => {
          entry.ready = true;
          entry.capabilities = capabilities;
          this.#entries.readied(peerId, entry);
          if (this.#entries.get(peerId) === entry) this.#up(peerId, entry);
        },
        message: (message) => this.#events.emit('message', { from: peerId, message }),
        dropped: (reason, detail) => {
          this.#dropped++;
          this.#events.emit('dropped', { from: peerId, reason, detail, total: this.#dropped });
        },
        closed: (reason, retired) => {
          if (this.#entries.remove(peerId, entry)) this.#drop(entry, reason, retired);
        },
      }),
    };
    return entry;
  }

  /** The peer's link is up: it is known, and what waited for it goes. */
  #up(peerId: string, entry: Entry): void {
    this.#dialler.reset(peerId);
    this.#roster.suspect(peerId, false);
    this.#update(peerId, '');
    this.#waiting.flush(peerId, (msg) => entry.link.send(msg));
  }

  #drop(entry: Entry, reason: string, retired?: Retired): void {
    const peerId = entry.link.peerId;
    entry.link.close(reason, false);
    if (this.#closed) return;
    // An extra link takes its place: the peer is still reached, nobody leaves.
    const next = this.#entries.promote(peerId);
    if (next !== undefined) {
      if (next.ready) this.#up(peerId, next);
      return;
    }
    const quiet =
      entry.ready &&
      reason === 'channel closed' &&
      entry.link.unusedMs >= QUIET_MS &&
      this.#roster.vouched(peerId) &&
      !this.#waiting.has(peerId);
    if (retired !== undefined || quiet) {
      // Retired because idle: nothing was lost. Messages waiting already get a new link.
      if (this.#waiting.has(peerId)) this.#dialler.dial(peerId);
      return this.#update(peerId, reason);
    }
    if (!entry.ready) return this.#dialler.failed(peerId, new PeerGoneError(peerId, reason));
    // A link that worked is lost, and the peer's work in flight with it: its leave says so. It
    // joins again once a link answers (a redial while it is listed).
    this.#lost(peerId, reason);
    this.#later(REDIAL_MS, () => this.#dialler.redial(peerId));
  }

  /** The peer's work in flight is lost: a leave now, whatever comes next. */
  #lost(id: string, reason: string): void {
    this.#waiting.reject(id, new PeerGoneError(id, reason));
    this.#roster.suspect(id, true);
    const capabilities = this.#roster.known().get(id);
    if (capabilities !== undefined && this.#roster.reset(id))
      this.#events.emit('peer:leave', { id, capabilities, lane: undefined, reason });
  }

  /**
   * Links unused for `idleMs` close, unless only the link vouches for the peer (the coordinator
   * does not list it); extra links close sooner.
   */
  #retireIdle(idleMs: number): void {
    if (this.#stats.peerConnections >= KEEP_LINKS_AFTER) return;
    const unused = (e: Entry, ms: number) => e.ready && e.link.unusedMs >= ms && !e.link.busy;
    const extraMs = Math.min(idleMs, EXTRA_IDLE_MS);
    this.#entries.agree((main) => unused(main, extraMs));
    for (const extra of this.#entries.extras())
      if (unused(extra, extraMs)) extra.link.retire('idle');
    for (const [peerId, entry] of [...this.#entries.mains()]) {
      if (!unused(entry, idleMs) || !this.#roster.vouched(peerId) || this.#waiting.has(peerId))
        continue;
      if (this.#entries.hasExtras(peerId)) continue; // it closes once the extras have
      this.#entries.remove(peerId, entry);
      entry.link.retire('idle');
    }
  }

  /** Tells the runs when the peer became known, or stopped being known. */
  #update(id: string, reason: string): void {
    const before = this.#roster.known().get(id);
    const change = this.#roster.update(id);
    const entry = this.#entries.get(id);
    const lane = entry?.ready ? entry.link.channel.lane : undefined;
    if (change === 'join') {
      const capabilities = this.#roster.known().get(id) ?? {};
      this.#events.emit('peer:join', { id, capabilities, lane });
    } else if (change === 'leave') {
      this.#events.emit('peer:leave', { id, capabilities: before ?? {}, lane, reason });
    }
  }

  #later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) run();
    }, ms);
    this.#timers.add(timer);
  }
}
