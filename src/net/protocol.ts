/**
 * The wire protocol: every message between two peers, as one discriminated union on `t`, each
 * carrying the protocol version `v`. `parseMessage` validates what arrives; nothing that fails
 * it reaches the application.
 */

import type { Resources } from '../resources.ts';

export const PROTOCOL_VERSION = 1;

export type Message =
  /**
   * First message on a new channel, both ways: who I am (`session` is new each time a node
   * starts, so a reloaded tab with the same id is told apart), where, and a fresh challenge.
   */
  | {
      readonly v: 1;
      readonly t: 'hello';
      readonly id: string;
      readonly session: string;
      readonly room: string;
      readonly nonce: Uint8Array;
    }
  /** Proof of the swarm secret: HMAC over the peer's nonce and both ids (only with a secret). */
  | { readonly v: 1; readonly t: 'auth'; readonly proof: Uint8Array }
  /** The handshake is done on my side; here is what I can do. */
  | { readonly v: 1; readonly t: 'ready'; readonly capabilities: Resources }
  | { readonly v: 1; readonly t: 'ping'; readonly n: number }
  | { readonly v: 1; readonly t: 'pong'; readonly n: number }
  /** A one-way application message. */
  | { readonly v: 1; readonly t: 'msg'; readonly topic: string; readonly body: unknown }
  | {
      readonly v: 1;
      readonly t: 'req';
      readonly id: number;
      readonly method: string;
      readonly body: unknown;
    }
  | {
      readonly v: 1;
      readonly t: 'res';
      readonly id: number;
      readonly ok: true;
      readonly body: unknown;
    }
  | {
      readonly v: 1;
      readonly t: 'res';
      readonly id: number;
      readonly ok: false;
      readonly error: RemoteErrorInfo;
    }
  /**
   * I am leaving on purpose; do not wait for heartbeats. With `why`, only this channel ends and
   * the node stays: it was unused for a while (`idle`). The sender still reads what comes until
   * the receiver closes the channel.
   */
  | { readonly v: 1; readonly t: 'bye'; readonly why?: Retired };

/** Why a channel was retired while both nodes stay; see the `bye` message. */
export type Retired = 'idle';

export type MessageType = Message['t'];

/** An error as it crosses the wire: data only, never a live object. */
export interface RemoteErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly stack?: string | undefined;
}

/** Ids as PeerJS accepts them. */
export const PEER_ID = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,126}[A-Za-z0-9])?$/;
const NAME_MAX = 256;
const TEXT_MAX = 64 * 1024;

/** Why a message was refused; reported through the transport's `dropped` event. */
export type DropReason =
  | 'malformed'
  | 'unknown-type'
  | 'wrong-version'
  | 'oversized'
  | 'unexpected'
  | 'unauthenticated'
  /** A peer asked for what only a run's orchestrator may do (clear or cancel a live run). */
  | 'unauthorized';

export type Parsed =
  | { readonly ok: true; readonly message: Message }
  | { readonly ok: false; readonly reason: DropReason; readonly detail: string };

/** Validates a decoded value as a {@link Message}: types, lengths and sizes. */
export function parseMessage(value: unknown): Parsed {
  if (!isRecord(value)) return bad('malformed', 'not an object');
  if (value.v !== PROTOCOL_VERSION) return bad('wrong-version', `version ${String(value.v)}`);
  const m = value;
  switch (m.t) {
    case 'hello':
      return check(
        isId(m.id) &&
          isName(m.session) &&
          isName(m.room) &&
          m.nonce instanceof Uint8Array &&
          m.nonce.length === 16,
        m,
        'hello needs id, session, room and a 16-byte nonce',
      );
    case 'auth':
      return check(
        m.proof instanceof Uint8Array && m.proof.length === 32,
        m,
        'auth needs a 32-byte proof',
      );
    case 'ready':
      return check(isResources(m.capabilities), m, 'ready needs capabilities');
    case 'ping':
    case 'pong':
      return check(isCount(m.n), m, `${m.t} needs a counter`);
    case 'msg':
      return check(isName(m.topic) && 'body' in m, m, 'msg needs a topic and a body');
    case 'req':
      return check(
        isCount(m.id) && isName(m.method) && 'body' in m,
        m,
        'req needs id, method, body',
      );
    case 'res':
      if (!isCount(m.id) || typeof m.ok !== 'boolean')
        return bad('malformed', 'res needs id and ok');
      if (m.ok) return check('body' in m, m, 'res needs a body');
      return check(isErrorInfo(m.error), m, 'res needs an error');
    case 'bye':
      return check(m.why === undefined || m.why === 'idle', m, "bye's why must be 'idle'");
    default:
      return bad('unknown-type', `type ${JSON.stringify(String(m.t)).slice(0, 40)}`);
  }
}

/** A message without its version, as code builds it. */
export type Unversioned = Message extends unknown ? DistributiveOmit<Message, 'v'> : never;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Builds a message; the version is filled in. */
export function message(fields: Unversioned): Message {
  return { v: PROTOCOL_VERSION, ...fields } as Message;
}

function check(ok: boolean, m: Record<string, unknown>, detail: string): Parsed {
  return ok ? { ok: true, message: m as unknown as Message } : bad('malformed', detail);
}

function bad(reason: DropReason, detail: string): Parsed {
  return { ok: false, reason, detail };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && PEER_ID.test(v);
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= NAME_MAX;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Capabilities or costs as they may arrive from a peer or the coordinator: bounded, finite. */
export function isResources(v: unknown): v is Resources {
  if (!isRecord(v)) return false;
  const entries = Object.entries(v);
  return (
    entries.length <= 64 &&
    entries.every(
      ([k, n]) => k.length > 0 && k.length <= 64 && typeof n === 'number' && Number.isFinite(n),
    )
  );
}

function isErrorInfo(v: unknown): v is RemoteErrorInfo {
  return (
    isRecord(v) &&
    isName(v.code) &&
    typeof v.message === 'string' &&
    v.message.length <= TEXT_MAX &&
    (v.stack === undefined || (typeof v.stack === 'string' && v.stack.length <= TEXT_MAX))
  );
}
