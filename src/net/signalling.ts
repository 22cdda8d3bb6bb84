/**
 * The signalling socket to the coordinator, speaking the PeerJS server's protocol (the `peer`
 * package, which the coordinator is built on): a WebSocket at `<path>/peerjs?key&id&token`,
 * JSON messages `{ type, src, dst, payload }`, `OPEN` once the seat is ours, `HEARTBEAT` every
 * few seconds, `OFFER` / `ANSWER` / `CANDIDATE` relayed between peers, `EXPIRE` when a peer
 * never collected what we sent it. Reconnects with backoff whenever it drops. What it receives
 * is checked like any input before anyone sees it.
 */
import { describeClose } from './close-codes.ts';
import { PEER_ID } from './protocol.ts';
import { coordinatorJson } from './room-client.ts';

/** A relayed message, checked: from a well-formed peer id, with an object payload. */
export interface Signal {
  readonly type: 'OFFER' | 'ANSWER' | 'CANDIDATE' | 'LEAVE' | 'EXPIRE';
  readonly src: string;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface SignallingOptions {
  /** `ws://host:port/path/peerjs` */
  readonly url: string;
  readonly id: string;
  readonly token: string;
  readonly onSignal: (signal: Signal) => void;
  /** Up (the seat is ours again) or down, with why. Not called for the first opening. */
  readonly onStatus: (up: boolean, reason: string) => void;
}

/** Why the coordinator refused a seat: `taken` when another token holds this id. */
export class SignallingRefused extends Error {
  constructor(
    readonly kind: 'taken' | 'error' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'SignallingRefused';
  }
}

const HEARTBEAT_MS = 5000;
const RELAYED = new Set(['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']);
/** Messages kept while the socket is reconnecting; a dial waiting longer fails by its timeout. */
const MAX_QUEUED = 256;

export class Signalling {
  #socket: WebSocket | undefined;
  #up = false;
  #closed = false;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #queue: string[] = [];
  #everUp = false;
  /** What the coordinator said when it last refused or dropped us (an `ERROR` message). */
  #said = '';

  constructor(readonly options: SignallingOptions) {}

  /** Takes the seat; rejects with {@link SignallingRefused} when the coordinator says no. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => this.#connect(resolve, reject));
  }

  /** Sends a message to a peer through the coordinator, or keeps it until the socket is back. */
  send(type: 'OFFER' | 'ANSWER' | 'CANDIDATE', dst: string, payload: object): void {
    const text = JSON.stringify({ type, dst, payload });
    if (this.#up) this.#socket?.send(text);
    else if (this.#queue.length < MAX_QUEUED) this.#queue.push(text);
  }

  close(): void {
    this.#closed = true;
    this.#up = false;
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    this.#socket?.close(1000, 'leaving');
  }

  #connect(resolve?: () => void, reject?: (error: SignallingRefused) => void): void {
    const { url, id, token } = this.options;
    const query = new URLSearchParams({ key: 'peerjs', id, token });
    const socket = new WebSocket(`${url}?${query}`);
    this.#socket = socket;
    let refusal: SignallingRefused | undefined;
    socket.onmessage = (event) => {
      const message = parse(event.data);
      if (message === undefined) return;
      if (message.type === 'OPEN') {
        this.#opened(socket);
        resolve?.();
      } else if ('msg' in message) {
        this.#said = message.msg;
        refusal = new SignallingRefused(
          message.type === 'ID-TAKEN' ? 'taken' : 'error',
          message.msg,
        );
      } else if (this.#socket === socket) {
        this.options.onSignal(message);
      }
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      clearInterval(this.#heartbeat);
      const reason = `signalling connection lost: ${describeClose(event.code, event.reason)}`;
      if (reject !== undefined && !this.#up) {
        this.#closed = true;
        reject(refusal ?? new SignallingRefused('closed', reason));
        return;
      }
      if (this.#up) {
        this.#up = false;
        this.options.onStatus(false, this.#said ? `${reason}: ${this.#said}` : reason);
      }
      if (this.#closed) return;
      const delay = Math.min(5000, 250 * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => this.#connect(), delay);
    };
  }

  #opened(socket: WebSocket): void {
    if (this.#socket !== socket || this.#up) return;
    const again = this.#everUp;
    this.#everUp = true;
    this.#up = true;
    this.#attempt = 0;
    this.#said = '';
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (socket.readyState === 1) socket.send('{"type":"HEARTBEAT"}');
    }, HEARTBEAT_MS);
    for (const text of this.#queue.splice(0)) socket.send(text);
    if (again) this.options.onStatus(true, 'signalling connection back');
  }
}

type Parsed =
  | Signal
  | { readonly type: 'OPEN' }
  | { readonly type: 'ID-TAKEN' | 'ERROR'; msg: string };

/** A message of the coordinator, or undefined when it is not one we know the shape of. */
function parse(data: unknown): Parsed | undefined {
  const message = coordinatorJson(data, 1 << 20);
  if (message === undefined) return undefined;
  const { type, src, payload } = message;
  if (type === 'OPEN') return { type };
  if (type === 'ID-TAKEN' || type === 'ERROR') {
    const msg = (payload as { msg?: unknown } | null)?.msg;
    return { type, msg: typeof msg === 'string' ? msg.slice(0, 200) : String(type) };
  }
  if (typeof type !== 'string' || !RELAYED.has(type)) return undefined;
  if (typeof src !== 'string' || !PEER_ID.test(src)) return undefined;
  const body = typeof payload === 'object' && payload !== null ? payload : {};
  return { type: type as Signal['type'], src, payload: body as Record<string, unknown> };
}
