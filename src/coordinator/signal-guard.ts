/**
 * What stands between a signalling socket and the PeerJS server. The `peer` package parses
 * every message with `JSON.parse` and reports a failure as an `error` event that nothing can
 * safely catch (peers/peerjs-server issue 112: one `{` ends the process). So PeerJS never sees a
 * raw socket: it gets a {@link GuardedSocket} that passes on only messages of the shapes a client
 * of its protocol sends (Handout's nodes: `net/signalling.ts`, `net/webrtc.ts`), within the size
 * and rate limits, and closes the client with a reason otherwise.
 */
import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { CloseCode } from '../net/close-codes.ts';
import { PEER_ID } from '../net/protocol.ts';
import { RateLimit } from './limits.ts';

/** Why a client was closed: the close code and a reason it is told. */
export interface Violation {
  readonly code: number;
  readonly reason: string;
}

/** The connection serializations a PeerJS client can build; any other name throws there. */
const SERIALIZATIONS = new Set(['raw', 'json', 'binary', 'binary-utf8']);
const MAX_CONNECTION_ID = 64;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A session description as PeerJS relays it: `{ type, sdp }`. */
const isDescription = (v: unknown): boolean =>
  isObject(v) && typeof v.type === 'string' && typeof v.sdp === 'string';

/**
 * Checks one message a client sent on its signalling socket. Only what PeerJS clients send
 * passes: a heartbeat, or an offer, answer, candidate or leave addressed to a well-formed id,
 * with the payload fields the receiving client reads (so a hostile sender cannot make another
 * client throw either). Pure.
 */
export function checkSignal(text: string, maxIdLength: number): Violation | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { code: CloseCode.malformed, reason: 'not JSON' };
  }
  if (!isObject(message)) return { code: CloseCode.malformed, reason: 'not a JSON object' };
  const { type, dst, payload } = message;
  if (type === 'HEARTBEAT') return undefined;
  if (type !== 'OFFER' && type !== 'ANSWER' && type !== 'CANDIDATE' && type !== 'LEAVE') {
    return {
      code: CloseCode.malformed,
      reason: `unknown message type ${String(type).slice(0, 32)}`,
    };
  }
  if (typeof dst !== 'string' || dst.length > maxIdLength || !PEER_ID.test(dst))
    return { code: CloseCode.malformed, reason: `${type} without a well-formed dst` };
  if (type === 'LEAVE') return undefined;
  if (!isObject(payload)) return { code: CloseCode.malformed, reason: `${type} without payload` };
  const { connectionId } = payload;
  if (
    typeof connectionId !== 'string' ||
    connectionId.length === 0 ||
    connectionId.length > MAX_CONNECTION_ID
  )
    return { code: CloseCode.malformed, reason: `${type} without a connectionId` };
  switch (type) {
    case 'OFFER':
      if (payload.type !== 'data')
        return { code: CloseCode.malformed, reason: 'only data connections are brokered' };
      if (typeof payload.serialization !== 'string' || !SERIALIZATIONS.has(payload.serialization))
        return { code: CloseCode.malformed, reason: 'OFFER with an unknown serialization' };
      if (!isDescription(payload.sdp))
        return { code: CloseCode.malformed, reason: 'OFFER without a session description' };
      return undefined;
    case 'ANSWER':
      if (!isDescription(payload.sdp))
        return { code: CloseCode.malformed, reason: 'ANSWER without a session description' };
      return undefined;
    case 'CANDIDATE':
      if (!isObject(payload.candidate) || typeof payload.candidate.candidate !== 'string')
        return { code: CloseCode.malformed, reason: 'CANDIDATE without a candidate' };
      return undefined;
  }
}

const HEARTBEAT = JSON.stringify({ type: 'HEARTBEAT' });

export interface GuardOptions {
  readonly maxSignalBytes: number;
  readonly maxIdLength: number;
  readonly messagesPerSecond: number;
  /** A client broke a rule; it is being closed with `violation`. */
  readonly onViolation: (violation: Violation) => void;
  /** PeerJS failed to handle a message that passed the checks. */
  readonly onFault: (error: unknown) => void;
  /** Counts each message passed on, with its size. */
  readonly onMessage: (bytes: number) => void;
}

/**
 * The socket PeerJS gets: `send`, `close` and the `message`, `close` and `error` events of a
 * `ws` socket, with only checked messages let through and every listener's failure contained.
 */
export class GuardedSocket extends EventEmitter {
  readonly #rate: RateLimit;
  #closing = false;

  constructor(
    readonly socket: WebSocket,
    readonly options: GuardOptions,
  ) {
    super();
    this.#rate = new RateLimit(options.messagesPerSecond);
    // ws emits `error` for bad frames (and closes the socket itself): never unhandled.
    socket.on('error', () => socket.terminate());
    socket.on('close', (code: number, reason: Buffer) => this.#emit('close', code, reason));
    socket.on('message', (data: RawData, isBinary: boolean) => this.#receive(data, isBinary));
    // The browser answers the coordinator's protocol pings itself, without the page: a hidden
    // tab whose timers run once a minute (so whose own heartbeats come late) is still there.
    socket.on('pong', () => this.#emit('message', HEARTBEAT));
  }

  get readyState(): number {
    return this.socket.readyState;
  }

  send(data: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket.close(code, reason);
  }

  /** Tells the client why in a PeerJS `ERROR` message (which PeerJS clients surface), then closes. */
  refuse({ code, reason }: Violation): void {
    if (this.#closing) return;
    this.#closing = true;
    this.send(JSON.stringify({ type: 'ERROR', payload: { msg: reason } }));
    this.socket.close(code, reason.slice(0, 120));
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (this.#closing) return;
    const bytes = size(data);
    const violation = isBinary
      ? { code: CloseCode.malformed, reason: 'binary messages are not accepted' }
      : bytes > this.options.maxSignalBytes
        ? {
            code: CloseCode.tooLarge,
            reason: `message of ${bytes} bytes (limit ${this.options.maxSignalBytes})`,
          }
        : !this.#rate.take()
          ? {
              code: CloseCode.tooFast,
              reason: `more than ${this.options.messagesPerSecond} messages a second`,
            }
          : checkSignal(text(data), this.options.maxIdLength);
    if (violation !== undefined) {
      this.options.onViolation(violation);
      this.refuse(violation);
      return;
    }
    this.options.onMessage(bytes);
    this.#emit('message', text(data));
  }

  /** Hands an event to PeerJS; what it throws closes this client, never the process. */
  #emit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.options.onFault(error);
      if (event !== 'close')
        this.refuse({ code: CloseCode.internalError, reason: 'internal error' });
    }
  }
}

const size = (data: RawData): number =>
  Array.isArray(data)
    ? data.reduce((n, b) => n + b.length, 0)
    : data instanceof ArrayBuffer
      ? data.byteLength
      : data.length;

const text = (data: RawData): string =>
  Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as Buffer).toString();
