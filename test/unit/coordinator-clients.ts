// Plain WebSocket clients of a coordinator, speaking the PeerJS signalling protocol and the room
// protocol by hand, as an outsider (or an attacker) would.
import { WebSocket } from 'ws';

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

export interface Client {
  readonly ws: WebSocket;
  /** Text messages received, parsed where they are JSON. */
  readonly got: unknown[];
  readonly closed: Promise<Closed>;
  /** Resolves with the first message that `match` accepts (or rejects when the socket closes). */
  next(match: (message: unknown) => boolean): Promise<unknown>;
  isOpen(): boolean;
}

/** `autoPong: false` is a client gone silent even below the page: a dead connection. */
function client(url: string, autoPong = true): Client {
  const ws = new WebSocket(url, { autoPong });
  const got: unknown[] = [];
  const waiters: { match: (m: unknown) => boolean; resolve: (m: unknown) => void }[] = [];
  ws.on('error', () => undefined);
  ws.on('message', (data) => {
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      message = data.toString();
    }
    got.push(message);
    for (const w of [...waiters]) {
      if (w.match(message)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  const closed = new Promise<Closed>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return {
    ws,
    got,
    closed,
    next: (match) => {
      const seen = got.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise((resolve) => waiters.push({ match, resolve })),
        closed.then((c) => {
          throw new Error(`closed (${c.code} ${c.reason}) before the message came`);
        }),
      ]);
    },
    isOpen: () => ws.readyState === WebSocket.OPEN,
  };
}

const wsBase = (url: string) => url.replace(/^http/, 'ws');

/** A signalling client; resolves once the server said OPEN (or with the refused client). */
export async function signal(
  url: string,
  id: string,
  token = `t-${id}`,
  autoPong = true,
): Promise<Client> {
  const query = new URLSearchParams({ key: 'peerjs', id, token });
  const c = client(`${wsBase(url)}/peerjs?${query}`, autoPong);
  await Promise.race([c.next((m) => isType(m, 'OPEN') || isType(m, 'ERROR')), c.closed]);
  return c;
}

/** A room member (with its signalling client); resolves on its first member list or close. */
export async function member(
  url: string,
  id: string,
  room: string,
  options: { token?: string; session?: string; signalling?: boolean; autoPong?: boolean } = {},
): Promise<Client & { signalling: Client | undefined }> {
  const token = options.token ?? `t-${id}`;
  const signalling =
    options.signalling === false ? undefined : await signal(url, id, token, options.autoPong);
  const query = new URLSearchParams({ id, token, room, session: options.session ?? `s-${id}` });
  const c = client(`${wsBase(url)}/rooms?${query}`);
  await Promise.race([c.next((m) => isType(m, 'members')), c.closed]);
  return Object.assign(c, { signalling });
}

export const isType = (m: unknown, type: string): boolean =>
  typeof m === 'object' && m !== null && (m as { type?: unknown }).type === type;

/** The ids a member knows are in its room, from its member list and the batches after it. */
export function roomSeenBy(c: Client): Set<string> {
  const seen = new Set<string>();
  for (const m of c.got) {
    if (isType(m, 'members')) {
      seen.clear();
      for (const { id } of (m as { members: { id: string }[] }).members) seen.add(id);
    } else if (isType(m, 'batch')) {
      for (const e of (m as { events: { type: string; id: string }[] }).events) {
        if (e.type === 'join') seen.add(e.id);
        else seen.delete(e.id);
      }
    }
  }
  return seen;
}

/** A valid data-connection offer from the client to `dst`, as a PeerJS client sends it. */
export const offer = (dst: string, extra = '') =>
  JSON.stringify({
    type: 'OFFER',
    dst,
    payload: {
      sdp: { type: 'offer', sdp: `v=0\r\n${extra}` },
      type: 'data',
      connectionId: 'dc_test',
      label: 'dc_test',
      reliable: true,
      serialization: 'raw',
    },
  });
