import { PeerGoneError } from '../errors.ts';
import type { Resources } from '../resources.ts';
import { importSecret, roomKey } from './auth.ts';
import type { Channel } from './channel.ts';
import { type Connector, type DirectoryEvent, Mesh, type MeshOptions } from './mesh.ts';

export interface MemoryPeerOptions
  extends Partial<Omit<MeshOptions, 'selfId' | 'session' | 'room' | 'secret' | 'capabilities'>> {
  readonly id: string;
  /** @default 'default' */
  readonly room?: string | undefined;
  readonly capabilities?: Resources | undefined;
  readonly secret?: string | undefined;
}

/** Milliseconds a message from one peer to another takes; 0 delivers on the next task. */
export type DelayFn = (from: string, to: string) => number;

interface Member {
  readonly id: string;
  /** Crashed: everything on its channels is lost, both ways. A new node may reuse the id. */
  vanished?: boolean;
  readonly session: string;
  readonly room: string;
  readonly capabilities: Resources;
  incoming?: (peerId: string, channel: Channel) => void;
  directory?: (event: DirectoryEvent) => void;
}

/**
 * An in-memory swarm for unit tests: rooms, channels with real framing and handshakes, and
 * injected faults. Messages on one channel stay in order (as on an ordered RTCDataChannel);
 * across channels, delays may reorder them.
 */
export class MemoryHub {
  readonly #members = new Map<string, Member>();
  readonly #cut = new Set<string>();
  #delay: DelayFn = () => 0;

  /** Joins a peer to its room and resolves once it is listening. */
  async join(options: MemoryPeerOptions): Promise<Mesh> {
    const { id, room = 'default', capabilities = {}, secret, ...link } = options;
    if (this.#members.has(id)) throw new Error(`id ${id} is taken`);
    const key = secret === undefined ? undefined : await importSecret(secret);
    const member: Member = {
      id,
      session: crypto.randomUUID(),
      room: await roomKey(room, key),
      capabilities,
    };
    this.#members.set(id, member);
    const connector: Connector = {
      dial: (peerId) => this.#dial(member, peerId),
      onIncoming: (handler) => {
        member.incoming = handler;
      },
      onDirectory: (handler) => {
        member.directory = handler;
      },
      onCoordinator: () => undefined,
      close: async () => this.#leave(member),
    };
    const linkOptions = { ...link, selfId: id, session: member.session, room: member.room };
    const mesh = new Mesh(id, { ...linkOptions, capabilities, secret: key }, connector);
    const others = [...this.#members.values()].filter(
      (m) => m.room === member.room && m !== member,
    );
    member.directory?.({
      type: 'members',
      members: others.map(({ id, session, capabilities }) => ({ id, session, capabilities })),
    });
    for (const other of others)
      other.directory?.({ type: 'join', id, session: member.session, capabilities });
    return mesh;
  }

  /** Every message to or from these peers' channels is lost and they leave the directory: a crash. */
  vanish(peerId: string): void {
    const member = this.#members.get(peerId);
    if (member === undefined) return;
    member.vanished = true;
    this.#leave(member);
  }

  /** The peer leaves the directory but its channels keep working: its coordinator link broke. */
  unlist(peerId: string): void {
    const member = this.#members.get(peerId);
    if (member !== undefined) this.#leave(member);
  }

  /** Messages between the two groups are lost until `heal`. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) for (const y of b) this.#cut.add(`${x}|${y}`).add(`${y}|${x}`);
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Sets how long each message takes; see {@link DelayFn}. */
  setDelay(delay: DelayFn): void {
    this.#delay = delay;
  }

  #lost(from: Member, to: Member): boolean {
    return from.vanished === true || to.vanished === true || this.#cut.has(`${from.id}|${to.id}`);
  }

  async #dial(from: Member, peerId: string): Promise<Channel> {
    const target = this.#members.get(peerId);
    if (target === undefined || target.room !== from.room || this.#lost(from, target)) {
      throw new PeerGoneError(peerId, 'not reachable');
    }
    const [mine, theirs] = this.#pair(from, target);
    target.incoming?.(from.id, theirs);
    return mine;
  }

  #leave(member: Member): void {
    if (this.#members.get(member.id) !== member) return;
    this.#members.delete(member.id);
    for (const other of this.#members.values()) {
      if (other.room === member.room) other.directory?.({ type: 'leave', id: member.id });
    }
  }

  #pair(a: Member, b: Member): [Channel, Channel] {
    const hub = this;
    const ends = [a, b].map((self, i) => {
      const other = [a, b][1 - i] as Member;
      const state = {
        buffered: 0,
        lastDelivery: 0,
        closed: false,
        message: undefined as ((data: ArrayBuffer) => void) | undefined,
        /** In flight, in send order: one timer delivers them, so they can never overtake. */
        queue: [] as { at: number; copy: ArrayBuffer }[],
        close: [] as (() => void)[],
        drain: [] as { threshold: number; listener: () => void }[],
      };
      return { self, other, state };
    });
    const channels = ends.map((end, i) => {
      const peer = ends[1 - i] as (typeof ends)[number];
      const schedule = (): void => {
        const head = end.state.queue[0];
        if (head === undefined) return;
        setTimeout(deliver, Math.max(0, head.at - Date.now()));
      };
      const deliver = (): void => {
        const now = Date.now();
        while ((end.state.queue[0]?.at ?? Number.POSITIVE_INFINITY) <= now) {
          const { copy } = end.state.queue.shift() as { copy: ArrayBuffer };
          end.state.buffered -= copy.byteLength;
          if (!peer.state.closed && !hub.#lost(end.self, end.other)) peer.state.message?.(copy);
        }
        for (const d of end.state.drain) if (end.state.buffered <= d.threshold) d.listener();
        schedule();
      };
      const channel: Channel = {
        lane: 'memory',
        send(data) {
          if (end.state.closed) throw new Error('channel closed');
          const copy = data.slice().buffer as ArrayBuffer;
          end.state.buffered += copy.byteLength;
          const at = Math.max(
            Date.now() + hub.#delay(end.self.id, end.other.id),
            end.state.lastDelivery,
          );
          end.state.lastDelivery = at;
          end.state.queue.push({ at, copy });
          if (end.state.queue.length === 1) schedule();
        },
        get bufferedAmount() {
          return end.state.buffered;
        },
        onDrain(threshold, listener) {
          end.state.drain.push({ threshold, listener });
        },
        onMessage(listener) {
          end.state.message = listener;
        },
        onClose(listener) {
          end.state.close.push(listener);
        },
        close() {
          for (const side of [end, peer]) {
            if (side.state.closed) continue;
            side.state.closed = true;
            // A vanished peer's side never hears of it, as with a crashed tab.
            if (side !== end && hub.#lost(end.self, end.other)) continue;
            setTimeout(() => {
              for (const listener of side.state.close) listener();
            }, 0);
          }
        },
      };
      return channel;
    });
    return [channels[0] as Channel, channels[1] as Channel];
  }
}
