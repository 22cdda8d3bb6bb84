/**
 * Room membership on the coordinator. A node joins one room over its own small WebSocket,
 * after its PeerJS signalling socket is open (it proves who it is with the same id and token);
 * it then hears the room's members, and joins and leaves, and nothing about other rooms.
 */

/** What the coordinator tells a room member. */
export type RoomEvent =
  | { readonly type: 'members'; readonly members: readonly { id: string; session: string }[] }
  | { readonly type: 'join'; readonly id: string; readonly session: string }
  | { readonly type: 'leave'; readonly id: string };

/** The part of a WebSocket the room registry uses. */
export interface RoomSocket {
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

interface Seat {
  readonly id: string;
  readonly session: string;
  readonly socket: RoomSocket;
}

export type RoomLog = (event: 'join' | 'leave', room: string, id: string) => void;

export class Rooms {
  readonly #rooms = new Map<string, Map<string, Seat>>();

  constructor(readonly log: RoomLog = () => undefined) {}

  /** Seats a member; a seat already held by the same id (a reloaded tab) is taken over. */
  join(room: string, id: string, session: string, socket: RoomSocket): void {
    const seats = this.#rooms.get(room) ?? new Map<string, Seat>();
    this.#rooms.set(room, seats);
    const previous = seats.get(id);
    const seat = { id, session, socket };
    seats.set(id, seat);
    if (previous !== undefined) previous.socket.close(4000, 'replaced by a newer connection');
    send(socket, {
      type: 'members',
      members: [...seats.values()]
        .filter((s) => s !== seat)
        .map((s) => ({ id: s.id, session: s.session })),
    });
    for (const other of seats.values()) {
      if (other !== seat) send(other.socket, { type: 'join', id, session });
    }
    this.log('join', room, id);
  }

  /** Removes a member if `socket` still holds its seat. */
  leave(room: string, id: string, socket: RoomSocket): void {
    const seats = this.#rooms.get(room);
    if (seats?.get(id)?.socket !== socket) return;
    seats.delete(id);
    if (seats.size === 0) this.#rooms.delete(room);
    for (const other of seats.values()) send(other.socket, { type: 'leave', id });
    this.log('leave', room, id);
  }

  /** Every seat of an id, in any room: for when its signalling socket goes away. */
  evict(id: string): void {
    for (const [room, seats] of this.#rooms) {
      const seat = seats.get(id);
      if (seat === undefined) continue;
      this.leave(room, id, seat.socket);
      seat.socket.close(4001, 'signalling connection closed');
    }
  }

  /** Room name -> member ids, for logs and tests. */
  snapshot(): Record<string, string[]> {
    return Object.fromEntries([...this.#rooms].map(([room, seats]) => [room, [...seats.keys()]]));
  }
}

function send(socket: RoomSocket, event: RoomEvent): void {
  try {
    socket.send(JSON.stringify(event));
  } catch {
    // A socket that is closing: its own close handler cleans up.
  }
}
