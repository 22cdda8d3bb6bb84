import { Emitter } from '../emitter.ts';
import { PeerGoneError, RemoteError, RequestTimeoutError } from '../errors.ts';
import { CodecError } from './codec.ts';
import type { AppMessage } from './link.ts';
import { message, type RemoteErrorInfo } from './protocol.ts';
import type { Transport } from './transport.ts';

/** Answers a request; what it returns (or throws) goes back to the caller. */
export type Handler = (body: unknown, from: string) => unknown;

export interface RequestOptions {
  /** @default the Rpc's `timeoutMs` */
  readonly timeoutMs?: number | undefined;
  /**
   * Count `timeoutMs` from the last bytes of a large message that came from the peer, not from
   * the request: an answer of hundreds of MiB takes as long as it takes while it moves, and
   * fails once nothing has moved for `timeoutMs`.
   */
  readonly idle?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

interface Pending {
  readonly peerId: string;
  readonly method: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

type Notifications = Record<string, { readonly from: string; readonly body: unknown }>;

/**
 * Requests and one-way notifications over a {@link Transport}. Each request fails with its own
 * typed error: `RequestTimeoutError`, `PeerGoneError` (the peer left while we waited),
 * `RemoteError` (the handler threw; its code, message and stack are kept), or the signal's reason.
 */
export class Rpc {
  readonly #handlers = new Map<string, Handler>();
  readonly #pending = new Map<number, Pending>();
  readonly #topics = new Emitter<Notifications>();
  readonly #unsubscribe: (() => void)[];
  #nextId = 0;

  constructor(
    readonly transport: Transport,
    readonly timeoutMs = 30_000,
  ) {
    this.#unsubscribe = [
      transport.on('message', ({ from, message: m }) => this.#receive(from, m)),
      transport.on('peer:leave', ({ id, reason }) => {
        for (const [rid, p] of this.#pending) {
          if (p.peerId === id) this.#settle(rid)?.reject(new PeerGoneError(id, reason));
        }
      }),
    ];
  }

  /** Serves `method`; replaces an earlier handler. Returns a function that stops serving it. */
  handle(method: string, handler: Handler): () => void {
    this.#handlers.set(method, handler);
    return () => {
      if (this.#handlers.get(method) === handler) this.#handlers.delete(method);
    };
  }

  request(
    peerId: string,
    method: string,
    body: unknown,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      const streamed = () => this.transport.traffic()[peerId]?.streamed ?? 0;
      let moved = options.idle === true ? streamed() : undefined;
      const expire = () => {
        const now = moved === undefined ? undefined : streamed();
        if (now !== moved) {
          moved = now;
          timer = setTimeout(expire, timeoutMs); // bytes came meanwhile: not idle
          return;
        }
        this.#settle(id)?.reject(new RequestTimeoutError(peerId, method, timeoutMs));
      };
      let timer = setTimeout(expire, timeoutMs);
      const onAbort = () => this.#settle(id)?.reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        peerId,
        method,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      });
      this.transport
        .send(peerId, message({ t: 'req', id, method, body }) as AppMessage)
        .catch((error: unknown) => this.#settle(id)?.reject(error));
    });
  }

  /** Sends a one-way message. */
  notify(peerId: string, topic: string, body: unknown): Promise<void> {
    return this.transport.send(peerId, message({ t: 'msg', topic, body }) as AppMessage);
  }

  onNotify(topic: string, listener: (event: { from: string; body: unknown }) => void): () => void {
    return this.#topics.on(topic, listener);
  }

  close(): void {
    for (const off of this.#unsubscribe) off();
    for (const [id, p] of this.#pending)
      this.#settle(id)?.reject(new PeerGoneError(p.peerId, 'rpc closed'));
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    pending.cleanup();
    return pending;
  }

  #receive(from: string, m: AppMessage): void {
    switch (m.t) {
      case 'msg':
        this.#topics.emit(m.topic, { from, body: m.body });
        return;
      case 'res': {
        const pending = this.#pending.get(m.id);
        if (pending === undefined || pending.peerId !== from) return; // late, or not theirs
        this.#settle(m.id);
        if (m.ok) pending.resolve(m.body);
        else pending.reject(new RemoteError(from, m.error.code, m.error.message, m.error.stack));
        return;
      }
      case 'req':
        void this.#serve(from, m.id, m.method, m.body);
        return;
      default: {
        const never: never = m;
        return never;
      }
    }
  }

  async #serve(from: string, id: number, method: string, body: unknown): Promise<void> {
    const handler = this.#handlers.get(method);
    let reply: AppMessage;
    try {
      if (handler === undefined)
        throw Object.assign(new Error(`no handler for '${method}'`), { code: 'unknown_method' });
      reply = message({ t: 'res', id, ok: true, body: await handler(body, from) }) as AppMessage;
    } catch (error) {
      reply = message({ t: 'res', id, ok: false, error: errorInfo(error) }) as AppMessage;
    }
    try {
      await this.transport.send(from, reply);
    } catch (error) {
      // A result that cannot travel is reported to the caller as an error instead.
      if (error instanceof CodecError) {
        await this.transport
          .send(from, message({ t: 'res', id, ok: false, error: errorInfo(error) }) as AppMessage)
          .catch(() => undefined);
      }
    }
  }
}

export function errorInfo(error: unknown): RemoteErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      code:
        typeof code === 'string' && code.length > 0 ? code.slice(0, 256) : error.name || 'Error',
      message: error.message.slice(0, 65_536),
      stack: error.stack?.slice(0, 65_536),
    };
  }
  return { code: 'error', message: String(error).slice(0, 65_536) };
}
