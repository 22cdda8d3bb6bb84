import type { Resources } from '../resources.ts';
import type { Lane } from './channel.ts';
import type { AppMessage } from './link.ts';
import type { LinkStats } from './mesh.ts';
import type { DropReason } from './protocol.ts';

/** What went to and came from one peer over its current channel, in bytes, framing included. */
export interface Traffic {
  readonly sent: number;
  readonly received: number;
  /** Of `received`, the bytes of large messages (heartbeats and small messages left out). */
  readonly streamed: number;
}

/** A peer in the room: listed by the coordinator, or linked to this node. */
export interface PeerInfo {
  readonly id: string;
  /** What it offers, as it said when it joined the room. */
  readonly capabilities: Resources;
  /**
   * The pipe to it while a link is open: a MessagePort to a tab of this browser, or WebRTC.
   * Undefined between uses: links open when there is something to send and close when idle.
   */
  readonly lane: Lane | undefined;
}

/** A message refused on receipt: counted, reported, never acted on. */
export interface DroppedMessage {
  readonly from: string;
  readonly reason: DropReason;
  readonly detail: string;
  /** Messages this node has dropped so far, this one included. */
  readonly total: number;
}

export interface TransportEvents {
  'peer:join': PeerInfo;
  'peer:leave': PeerInfo & { readonly reason: string };
  message: { readonly from: string; readonly message: AppMessage };
  dropped: DroppedMessage;
  /** Connection to the coordinator: lost, then back. Existing peer channels stay up. */
  'coordinator:down': { readonly reason: string };
  'coordinator:up': Record<string, never>;
}

export type Listener<T> = (event: T) => void;

/**
 * How a node talks to its peers: send to one, hear from all, know who is there.
 * Implemented over WebRTC (`createWebRtcTransport`) and in memory for tests (`MemoryHub`).
 */
export interface Transport {
  readonly id: string;
  /** Peers in the room, live: listed by the coordinator (less those found unreachable), or linked. */
  peers(): PeerInfo[];
  /** Links open now and opened so far. */
  links(): LinkStats;
  /**
   * Sends a message to a peer, opening the channel on first use. Resolves once it is queued;
   * rejects with `PeerGoneError` if the peer is not in the room, `CodecError` if the body
   * cannot travel.
   */
  send(peerId: string, message: AppMessage): Promise<void>;
  on<E extends keyof TransportEvents>(event: E, listener: Listener<TransportEvents[E]>): () => void;
  /** Bytes sent to and received from each peer over its current channel, framing included. */
  traffic(): Record<string, Traffic>;
  /** Says goodbye to every peer and leaves the room. */
  close(): Promise<void>;
}
