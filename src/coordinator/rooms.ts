/**
 * Room membership on the coordinator. A node joins one room over its own small WebSocket,
 * after its PeerJS signalling socket is open (it proves who it is with the same id and token);
 * it then hears the room's members, and joins and leaves, and nothing about other rooms.
 *
 * Changes reach members in batches: joins and leaves gather for `flushMs`, then each newcomer
 * gets one `members` list and each earlier member one `batch` of the changes, so a room of n
 * costs n messages per batch however many joined, not n per join.
 */
import { CloseCode } from '../net/close-codes.ts';
import type { Resources } from '../resources.ts';

/** One change to a room. */
export type RoomChange =
  | {
      readonly type: 'join';
      readonly id: string;
      readonly session: string;
      readonly capabilities: Resources;
    }
  | { readonly type: 'leave'; readonly id: string };

/** What the coordinator tells a room member. */
export type RoomEvent =
  /** The whole room; it may list the receiver itself. */
  | {
      readonly type: 'members';
      readonly members: readonly { id: string; session: string; capabilities: Resources }[];
    }
  /** Changes since the last message, in order. */
  | { readonly type: 'batch'; readonly events: readonly RoomChange[] };

/** The part of a WebSocket the room registry uses. */
export interface RoomSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

interface Seat {
  readonly id: string;
  readonly session: string;
  readonly capabilities: Resources;
  readonly socket: RoomSocket;
}

interface Room {
  readonly name: string;
  readonly seats: Map<string, Seat>;
  /** Seats that have not had their `members` list yet. */
  readonly fresh: Set<Seat>;
  readonly changes: RoomChange[];
}

export interface RoomsOptions {
  /** How long changes gather before members hear them. @default 25 */
  readonly flushMs?: number;
  /** Rooms one id may sit in at once; 0 = no limit. @default 4 */
  readonly maxSeatsPerId?: number;
  /** Called for every join and leave. */
  readonly log?: (event: 'join' | 'leave', room: string, id: string) => void;
}

export class Rooms {
  readonly #rooms = new Map<string, Room>();
  readonly #seatsOf = new Map<string, number>();
  readonly #dirty = new Set<Room>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Messages sent to members, and how many flushes sent them. */
  readonly sent = { messages: 0, bytes: 0, flushes: 0 };

  constructor(readonly options: RoomsOptions = {}) {}

  /**
   * Seats a member; a seat already held by the same id (a reloaded tab) is taken over. False,
   * seating nobody, when the id already sits in as many rooms as allowed.
   */
  join(
    name: string,
    id: string,
    session: string,
    socket: RoomSocket,
    capabilities: Resources = {},
  ): boolean {
    const existing = this.#rooms.get(name);
    const previous = existing?.seats.get(id);
    const limit = this.options.maxSeatsPerId ?? 4;
    if (previous === undefined && limit > 0 && (this.#seatsOf.get(id) ?? 0) >= limit) return false;
    const room = existing ?? { name, seats: new Map(), fresh: new Set(), changes: [] };
    this.#rooms.set(name, room);
    const seat = { id, session, capabilities, socket };
    room.seats.set(id, seat);
    if (previous === undefined) this.#seatsOf.set(id, (this.#seatsOf.get(id) ?? 0) + 1);
    else {
      room.fresh.delete(previous);
      previous.socket.close(CloseCode.replaced, 'replaced by a newer connection');
    }
    room.fresh.add(seat);
    this.#change(room, { type: 'join', id, session, capabilities });
    this.options.log?.('join', name, id);
    return true;
  }

  /** Removes a member if `socket` still holds its seat. */
  leave(name: string, id: string, socket: RoomSocket): void {
    const room = this.#rooms.get(name);
    const seat = room?.seats.get(id);
    if (room === undefined || seat?.socket !== socket) return;
    room.seats.delete(id);
    room.fresh.delete(seat);
    const held = (this.#seatsOf.get(id) ?? 1) - 1;
    if (held === 0) this.#seatsOf.delete(id);
    else this.#seatsOf.set(id, held);
    this.#change(room, { type: 'leave', id });
    this.options.log?.('leave', name, id);
  }

  /** Every seat of an id, in any room: for when its signalling socket goes away. */
  evict(id: string): void {
    for (const [name, room] of this.#rooms) {
      const seat = room.seats.get(id);
      if (seat === undefined) continue;
      this.leave(name, id, seat.socket);
      seat.socket.close(CloseCode.evicted, 'signalling connection closed');
    }
  }

  /** Sends every pending change now (it otherwise goes `flushMs` after the first one). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    if (rooms.length > 0) this.sent.flushes++;
    for (const room of rooms) this.#flushRoom(room);
  }

  /** Room name -> member ids, for logs and tests. */
  snapshot(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.#rooms].map(([name, room]) => [name, [...room.seats.keys()]]),
    );
  }

  /** Rooms and seats held. */
  get size(): { rooms: number; members: number } {
    let members = 0;
    for (const room of this.#rooms.values()) members += room.seats.size;
    return { rooms: this.#rooms.size, members };
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #change(room: Room, change: RoomChange): void {
    room.changes.push(change);
    this.#dirty.add(room);
    this.#timer ??= setTimeout(() => this.flush(), this.options.flushMs ?? 25);
  }

  #flushRoom(room: Room): void {
    const seats = [...room.seats.values()];
    let list: string | undefined;
    let batch: string | undefined;
    for (const seat of seats) {
      if (room.fresh.has(seat)) {
        list ??= JSON.stringify({
          type: 'members',
          members: seats.map(({ id, session, capabilities }) => ({ id, session, capabilities })),
        } satisfies RoomEvent);
        this.#send(seat.socket, list);
      } else {
        batch ??= JSON.stringify({ type: 'batch', events: room.changes } satisfies RoomEvent);
        this.#send(seat.socket, batch);
      }
    }
    room.fresh.clear();
    room.changes.length = 0;
    if (room.seats.size === 0) this.#rooms.delete(room.name);
  }

  #send(socket: RoomSocket, data: string): void {
    this.sent.messages++;
    this.sent.bytes += data.length;
    try {
      socket.send(data);
    } catch {
      // A socket that is closing: its own close handler cleans up.
    }
  }
}
