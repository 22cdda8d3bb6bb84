import type { Channel } from './channel.ts';
import type { LinkOptions } from './link.ts';
import type { Member } from './roster.ts';

/** Room membership as the coordinator reports it: who may be dialled. */
export type DirectoryEvent =
  | { readonly type: 'members'; readonly members: readonly Member[] }
  | ({ readonly type: 'join' } & Member)
  | { readonly type: 'leave'; readonly id: string };

/** What a concrete transport provides: channels to peers and the room's directory. */
export interface Connector {
  dial(peerId: string): Promise<Channel>;
  /** Registers the handler of channels other peers open to us (`dialer` is that peer). */
  onIncoming(handler: (peerId: string, channel: Channel) => void): void;
  onDirectory(handler: (event: DirectoryEvent) => void): void;
  onCoordinator(handler: (up: boolean, reason: string) => void): void;
  close(): Promise<void>;
}

/** How the mesh keeps its links. */
export interface MeshOptions extends LinkOptions {
  /**
   * A link unused this long (heartbeats aside) is closed; the next message opens it again.
   * `Infinity` keeps every link. @default 60000
   */
  readonly idleLinkMs?: number | undefined;
}

/** Links this node holds and has opened. */
export interface LinkStats {
  /** Links open now. */
  readonly open: number;
  /** Links opened over this node's life, every lane. */
  readonly opened: number;
  /** Of those, WebRTC connections: Chromium lets a page create about 500 in its life. */
  readonly peerConnections: number;
}
