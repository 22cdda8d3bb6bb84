/**
 * Admitting the coordinator's two kinds of socket: signalling (handed to the PeerJS server
 * behind a {@link GuardedSocket}) and room membership. Every rule a client breaks closes that
 * client with a code and a reason, is counted and logged (gated), and touches nobody else.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import { CloseCode } from '../net/close-codes.ts';
import { isResources, PEER_ID } from '../net/protocol.ts';
import type { Resources } from '../resources.ts';
import type { Counters, DropKind } from './health.ts';
import { AddressBook, type Limits } from './limits.ts';
import type { CoordinatorLogEntry, LogGate } from './log.ts';
import type { Rooms } from './rooms.ts';
import { GuardedSocket, type Violation } from './signal-guard.ts';

const MAX_TOKEN = 128;
const MAX_SESSION = 256;

const KIND_OF: Record<number, DropKind> = {
  [CloseCode.badRequest]: 'bad-request',
  [CloseCode.unauthorized]: 'unauthorized',
  [CloseCode.tooManySeats]: 'too-many-seats',
  [CloseCode.tooLarge]: 'too-large',
  [CloseCode.messageTooBig]: 'too-large',
  [CloseCode.malformed]: 'malformed',
  [CloseCode.tooFast]: 'too-fast',
  [CloseCode.tooManyConnections]: 'too-many-connections',
  [CloseCode.full]: 'full',
  [CloseCode.internalError]: 'fault',
};

export interface SocketsContext {
  readonly limits: Limits;
  readonly rooms: Rooms;
  readonly counters: Counters;
  readonly gate: LogGate;
  /** The PeerJS server's socket server: a guarded socket is announced to it as a connection. */
  readonly signalling: () => WebSocketServer | undefined;
  /** id -> token of each open signalling client (PeerJS's own record, mirrored). */
  readonly tokens: ReadonlyMap<string, string>;
  /** The remote address of a request (the proxy's client, when proxies are trusted). */
  readonly addressOf: (request: IncomingMessage) => string;
}

/** Every open socket, for health and shutdown. */
export class Sockets {
  readonly signallingOpen = new Set<WebSocket>();
  readonly roomOpen = new Set<WebSocket>();
  readonly #addresses: AddressBook;
  readonly #alive = new WeakSet<WebSocket>();
  readonly #pinger: ReturnType<typeof setInterval>;
  readonly #signalPinger: ReturnType<typeof setInterval>;
  readonly #drained: (() => void)[] = [];

  constructor(readonly context: SocketsContext) {
    this.#addresses = new AddressBook(context.limits.maxConnectionsPerAddress);
    // Room sockets send nothing, so a dead TCP connection (a laptop gone to sleep) would hold
    // its seat forever: ping them, and drop those that did not answer the previous ping.
    this.#pinger = setInterval(() => this.#ping(), 30_000);
    this.#pinger.unref?.();
    // Signalling sockets are pinged well within PeerJS's alive_timeout: their pongs count as
    // heartbeats (see GuardedSocket), so a page whose timers are throttled is not dropped.
    this.#signalPinger = setInterval(() => {
      for (const ws of this.signallingOpen) ws.ping();
    }, context.limits.aliveTimeoutMs / 4);
    this.#signalPinger.unref?.();
  }

  get addresses(): number {
    return this.#addresses.addresses;
  }

  /** Takes a socket just upgraded on the signalling or the rooms path. */
  accept(kind: 'signalling' | 'rooms', ws: WebSocket, request: IncomingMessage): void {
    ws.on('error', () => ws.terminate());
    const address = this.context.addressOf(request);
    const who = { address, socket: kind };
    try {
      if (!this.#addresses.admit(address)) {
        const reason = `more than ${this.context.limits.maxConnectionsPerAddress} connections from ${address}`;
        return this.#refuse(ws, kind, who, { code: CloseCode.tooManyConnections, reason });
      }
      ws.once('close', () => this.#addresses.release(address));
      if (kind === 'signalling') this.#openSignalling(ws, request, who);
      else this.#openRoom(ws, request, who);
    } catch (error) {
      this.fault(who, error);
      ws.close(CloseCode.internalError, 'internal error');
    }
  }

  /** An unexpected failure in a handler: logged (gated) and counted; the process goes on. */
  fault(who: Record<string, unknown>, error: unknown): void {
    this.context.counters.drop('fault');
    this.context.gate.write(`fault:${String(who.address)}`, {
      level: 'error',
      event: 'fault',
      ...who,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }

  /** Resolves once no socket is open. */
  drained(): Promise<void> {
    if (this.signallingOpen.size + this.roomOpen.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #forget(set: Set<WebSocket>, ws: WebSocket): void {
    set.delete(ws);
    if (this.signallingOpen.size + this.roomOpen.size > 0) return;
    for (const resolve of this.#drained.splice(0)) resolve();
  }

  close(code: number, reason: string): void {
    clearInterval(this.#pinger);
    clearInterval(this.#signalPinger);
    // PeerJS clients do not see close codes; they do show an ERROR message's text.
    const said = JSON.stringify({ type: 'ERROR', payload: { msg: reason } });
    for (const ws of this.signallingOpen) ws.send(said);
    for (const ws of [...this.signallingOpen, ...this.roomOpen]) ws.close(code, reason);
  }

  terminate(): void {
    clearInterval(this.#pinger);
    clearInterval(this.#signalPinger);
    for (const ws of [...this.signallingOpen, ...this.roomOpen]) ws.terminate();
  }

  #openSignalling(ws: WebSocket, request: IncomingMessage, who: Record<string, unknown>): void {
    const { limits, counters, tokens } = this.context;
    const query = new URL(request.url ?? '', 'http://x').searchParams;
    const id = query.get('id') ?? '';
    const token = query.get('token') ?? '';
    const guard = new GuardedSocket(ws, {
      maxSignalBytes: limits.maxSignalBytes,
      maxIdLength: limits.maxIdLength,
      messagesPerSecond: limits.messagesPerSecond,
      onViolation: (violation) => this.#dropped({ ...who, id }, violation),
      onFault: (error) => this.fault({ ...who, id }, error),
      onMessage: (bytes) => counters.signal(bytes),
    });
    this.signallingOpen.add(ws);
    ws.once('close', () => this.#forget(this.signallingOpen, ws));
    const refuse = (code: number, reason: string) => {
      this.#dropped({ ...who, id }, { code, reason });
      guard.refuse({ code, reason });
    };
    if (!PEER_ID.test(id) || id.length > limits.maxIdLength)
      return refuse(CloseCode.badRequest, `malformed id or longer than ${limits.maxIdLength}`);
    if (token.length === 0 || token.length > MAX_TOKEN)
      return refuse(CloseCode.badRequest, 'missing or overlong token');
    if (limits.maxClients > 0 && tokens.size >= limits.maxClients && !tokens.has(id))
      return refuse(CloseCode.full, `the coordinator is full (${limits.maxClients} clients)`);
    const server = this.context.signalling();
    if (server === undefined) return refuse(CloseCode.internalError, 'signalling is not ready');
    // The same id and token again (a reload, or a reconnect before the old socket's close was
    // seen): PeerJS moves the seat to this socket but says nothing, so we say OPEN for it.
    const takeover = tokens.get(id) === token;
    server.emit('connection', guard, request);
    if (takeover && ws.readyState === ws.OPEN) guard.send(JSON.stringify({ type: 'OPEN' }));
  }

  #openRoom(ws: WebSocket, request: IncomingMessage, who: Record<string, unknown>): void {
    const { limits, rooms, tokens } = this.context;
    const query = new URL(request.url ?? '', 'http://x').searchParams;
    const id = query.get('id') ?? '';
    const room = query.get('room') ?? '';
    const session = query.get('session') ?? '';
    const capabilities = parseCapabilities(query.get('caps'));
    const whom = { ...who, id };
    this.roomOpen.add(ws);
    this.#alive.add(ws);
    ws.on('pong', () => this.#alive.add(ws));
    ws.once('close', () => this.#forget(this.roomOpen, ws));
    ws.on('message', (_data, isBinary) =>
      this.#refuse(ws, 'rooms', whom, {
        code: CloseCode.malformed,
        reason: `room sockets only listen (got a ${isBinary ? 'binary' : 'text'} message)`,
      }),
    );
    if (
      !PEER_ID.test(id) ||
      id.length > limits.maxIdLength ||
      !bounded(room, limits.maxRoomNameLength) ||
      !bounded(session, MAX_SESSION) ||
      capabilities === undefined
    ) {
      const reason = `id, room and session are required (id up to ${limits.maxIdLength}, room up to ${limits.maxRoomNameLength} characters), caps must be a JSON object of numbers`;
      return this.#refuse(ws, 'rooms', whom, { code: CloseCode.badRequest, reason });
    }
    // Only the holder of the signalling connection for this id may sit in rooms as it.
    if (tokens.get(id) !== query.get('token')) {
      const reason = 'no signalling connection with this id and token';
      return this.#refuse(ws, 'rooms', whom, { code: CloseCode.unauthorized, reason });
    }
    if (!rooms.join(room, id, session, ws, capabilities)) {
      const reason = `this id already sits in ${limits.maxSeatsPerId} rooms`;
      return this.#refuse(ws, 'rooms', whom, { code: CloseCode.tooManySeats, reason });
    }
    ws.once('close', () => rooms.leave(room, id, ws));
  }

  #refuse(
    ws: WebSocket,
    kind: 'signalling' | 'rooms',
    who: Record<string, unknown>,
    violation: Violation,
  ): void {
    this.#dropped(who, violation);
    // A PeerJS client shows the reason of an ERROR message; the close code says it to anyone.
    if (kind === 'signalling')
      ws.send(JSON.stringify({ type: 'ERROR', payload: { msg: violation.reason } }));
    ws.close(violation.code, violation.reason.slice(0, 120));
  }

  #dropped(who: Record<string, unknown>, { code, reason }: Violation): void {
    const kind = KIND_OF[code] ?? 'malformed';
    this.context.counters.drop(kind);
    const entry: CoordinatorLogEntry = { level: 'warn', event: 'refused', ...who, code, reason };
    this.context.gate.write(`${String(who.address)}|${String(who.id ?? '')}`, entry);
  }

  #ping(): void {
    for (const ws of this.roomOpen) {
      if (!this.#alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }
}

const bounded = (value: string, max: number) => value.length > 0 && value.length <= max;

/** A room member's capabilities from its query: absent is none, anything malformed undefined. */
function parseCapabilities(caps: string | null): Resources | undefined {
  if (caps === null) return {};
  if (caps.length > 4096) return undefined;
  try {
    const value: unknown = JSON.parse(caps);
    return isResources(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
