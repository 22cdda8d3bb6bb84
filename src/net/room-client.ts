import type { Resources } from '../resources.ts';
import { describeClose } from './close-codes.ts';
import type { DirectoryEvent, Member } from './mesh.ts';
import { isResources, PEER_ID } from './protocol.ts';

export interface RoomClientOptions {
  /** `ws://host:port/path/rooms` */
  readonly url: string;
  readonly id: string;
  readonly token: string;
  readonly room: string;
  readonly session: string;
  /** What this node offers: the room lists it, so peers can place work here before linking. */
  readonly capabilities: Resources;
  readonly onEvent: (event: DirectoryEvent) => void;
  readonly onStatus: (up: boolean, reason: string) => void;
}

/**
 * The room-membership socket to the coordinator, reconnecting with backoff whenever it drops
 * (for instance while the coordinator restarts). What it receives is validated like any input.
 */
export class RoomClient {
  #socket: WebSocket | undefined;
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #up = false;

  constructor(readonly options: RoomClientOptions) {}

  /** Connects; resolves on the first member list, rejects if the first attempt fails. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.#connect(resolve, reject));
  }

  /** Reconnects now (after the signalling socket came back), unless already connected. */
  poke(): void {
    if (!this.#up && !this.#closed) {
      clearTimeout(this.#timer);
      this.#connect();
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket?.close(1000, 'leaving');
  }

  #connect(resolve?: () => void, reject?: (error: Error) => void): void {
    const { url, id, token, room, session, capabilities } = this.options;
    const caps = JSON.stringify(capabilities);
    const query = new URLSearchParams({ id, token, room, session, caps });
    const socket = new WebSocket(`${url}?${query}`);
    this.#socket = socket;
    socket.onmessage = (event) => {
      const events = parse(event.data);
      if (events === undefined) return;
      if (events[0]?.type === 'members') {
        this.#attempt = 0;
        if (!this.#up) {
          this.#up = true;
          this.options.onStatus(true, 'room joined');
        }
        resolve?.();
      }
      for (const parsed of events) this.options.onEvent(parsed);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      const reason = `room socket closed: ${describeClose(event.code, event.reason)}`;
      if (this.#up) {
        this.#up = false;
        this.options.onStatus(false, reason);
      }
      reject?.(new Error(reason));
      if (this.#closed) return;
      const delay = Math.min(5000, 250 * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }
}

/** A text message of the coordinator, up to `maxLength`, as a JSON object; else undefined. */
export function coordinatorJson(
  data: unknown,
  maxLength: number,
): Record<string, unknown> | undefined {
  if (typeof data !== 'string' || data.length > maxLength) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  return value as Record<string, unknown>;
}

/** A message of the coordinator as directory events: a member list, or a batch of changes. */
function parse(data: unknown): DirectoryEvent[] | undefined {
  const event = coordinatorJson(data, 16 << 20);
  if (event === undefined) return undefined;
  if (event.type === 'members' && Array.isArray(event.members) && event.members.every(isMember)) {
    return [{ type: 'members', members: event.members.map(member) }];
  }
  if (event.type === 'batch' && Array.isArray(event.events)) {
    const changes = event.events.map(change);
    return changes.every((c) => c !== undefined) ? (changes as DirectoryEvent[]) : undefined;
  }
  return undefined;
}

function change(value: unknown): DirectoryEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Record<string, unknown>;
  if (event.type === 'join' && isMember(event)) return { type: 'join', ...member(event) };
  if (event.type === 'leave' && typeof event.id === 'string' && PEER_ID.test(event.id)) {
    return { type: 'leave', id: event.id };
  }
  return undefined;
}

function isMember(value: unknown): value is Member {
  const m = value as Partial<Member> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.id === 'string' &&
    PEER_ID.test(m.id) &&
    typeof m.session === 'string' &&
    m.session.length > 0 &&
    m.session.length <= 256 &&
    (m.capabilities === undefined || isResources(m.capabilities))
  );
}

/** A coordinator older than capabilities in the room list lists none: they count as none. */
const member = ({ id, session, capabilities }: Member): Member => ({
  id,
  session,
  capabilities: capabilities ?? {},
});
