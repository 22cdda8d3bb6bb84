/**
 * The SharedWorker that introduces tabs of one browser to each other. A tab joins with its
 * room key, id and session; a tab that wants a peer of its room asks for it by id, and gets one
 * end of a new MessageChannel while the peer gets the other. Nothing else passes through here:
 * the two tabs then talk over their own channel, and values never reach this worker or any
 * other tab. A tab's entry goes when its liveness lock is released (closed, crashed, reloaded).
 */
import { livenessLock } from './port-channel.ts';

export type BrokerRequest =
  | { readonly t: 'join'; readonly room: string; readonly id: string; readonly session: string }
  | { readonly t: 'dial'; readonly n: number; readonly to: string; readonly unless?: string }
  | { readonly t: 'leave' };

export type BrokerReply =
  | { readonly t: 'joined' }
  | {
      readonly t: 'dialed';
      readonly n: number;
      readonly port: MessagePort | null;
      readonly session: string | null;
    }
  | {
      readonly t: 'incoming';
      readonly from: string;
      readonly session: string;
      readonly port: MessagePort;
    };

interface Tab {
  readonly port: MessagePort;
  readonly room: string;
  readonly id: string;
  readonly session: string;
}

const rooms = new Map<string, Map<string, Tab>>();

function leave(tab: Tab): void {
  const room = rooms.get(tab.room);
  if (room?.get(tab.id) !== tab) return;
  room.delete(tab.id);
  if (room.size === 0) rooms.delete(tab.room);
}

function serve(port: MessagePort): void {
  let self: Tab | undefined;
  port.onmessage = (event: MessageEvent) => {
    const m = event.data as BrokerRequest;
    if (typeof m !== 'object' || m === null) return;
    if (m.t === 'join' && self === undefined) {
      if (![m.room, m.id, m.session].every((s) => typeof s === 'string' && s.length <= 256)) return;
      const tab: Tab = { port, room: m.room, id: m.id, session: m.session };
      self = tab;
      const room = rooms.get(tab.room) ?? new Map<string, Tab>();
      rooms.set(tab.room, room);
      room.set(tab.id, tab); // the same id again: a reload, its old session is gone or going
      void navigator.locks
        ?.request(livenessLock(tab.session), () => leave(tab))
        .catch(() => undefined);
      port.postMessage({ t: 'joined' } satisfies BrokerReply);
    } else if (m.t === 'dial' && self !== undefined && typeof m.n === 'number') {
      const peer = rooms.get(self.room)?.get(String(m.to));
      if (peer === undefined || peer === self || peer.session === m.unless) {
        port.postMessage({ t: 'dialed', n: m.n, port: null, session: null } satisfies BrokerReply);
        return;
      }
      const { port1, port2 } = new MessageChannel();
      const incoming: BrokerReply = {
        t: 'incoming',
        from: self.id,
        session: self.session,
        port: port2,
      };
      peer.port.postMessage(incoming, [port2]);
      const dialed: BrokerReply = { t: 'dialed', n: m.n, port: port1, session: peer.session };
      port.postMessage(dialed, [port1]);
    } else if (m.t === 'leave' && self !== undefined) {
      leave(self);
      self = undefined;
    }
  };
  port.start();
}

(globalThis as unknown as { onconnect: (event: MessageEvent) => void }).onconnect = (event) => {
  const port = event.ports[0];
  if (port !== undefined) serve(port);
};
