import type { Channel } from './channel.ts';
import type { Roster } from './roster.ts';
import type { WaitingMessages } from './waiting.ts';

/** Wait before dialling again a room member whose channel failed. */
export const REDIAL_MS = 1000;
/** Dials in a row that give no working link before a listed peer counts as gone. */
const MAX_FAILED_DIALS = 2;
/** Dials to a listed peer that stays unreachable, backing off, before waiting to hear of it. */
const MAX_REDIALS = 6;

/** What the dialler needs of its mesh. */
export interface DiallerHost {
  readonly roster: Roster;
  readonly waiting: WaitingMessages;
  /** Opens a channel to the peer (the connector's dial). */
  connect(peerId: string): Promise<Channel>;
  /** Takes a channel that opened. */
  adopt(peerId: string, channel: Channel): void;
  /** Whether a link to the peer is held (then a failed dial changes nothing). */
  linked(peerId: string): boolean;
  /** Tells the runs whether the peer is known now. */
  update(peerId: string, reason: string): void;
  /** Runs `run` after `ms`, unless the mesh closed meanwhile. */
  later(ms: number, run: () => void): void;
  closed(): boolean;
}

/** When to dial a peer, from {@link dialler}. */
export interface Dialler {
  dial(peerId: string): void;
  /** A link to the peer works, or news of it came: its next failure is its first again. */
  reset(peerId: string): void;
  /**
   * A dial, or a link that never got ready. Messages waiting for it fail after the second
   * failure in a row, and the peer stops being offered to runs (its leave); while the room lists
   * it, it is dialled again after 1, 2, 4... 32 s, and joins again when a link works.
   */
  failed(peerId: string, error: unknown): void;
  /** Dials the peer again if the room still lists it and no link to it is held. */
  redial(peerId: string): void;
}

/**
 * When to dial a peer, and when one that cannot be reached counts as gone: one dial at a time
 * per peer, a leave after the second failure in a row, and redials backing off while the
 * coordinator lists it.
 */
export function dialler(host: DiallerHost): Dialler {
  const dialing = new Map<string, Promise<void>>();
  const failures = new Map<string, number>();
  const { roster, waiting } = host;
  const self: Dialler = {
    dial(peerId) {
      if (dialing.has(peerId)) return;
      const dialed = host
        .connect(peerId)
        .then(
          (channel) => host.adopt(peerId, channel),
          (error: unknown) => {
            if (!host.linked(peerId)) self.failed(peerId, error);
          },
        )
        .finally(() => dialing.delete(peerId));
      dialing.set(peerId, dialed);
    },
    reset(peerId) {
      failures.delete(peerId);
    },
    failed(peerId, error) {
      if (host.closed()) return;
      const failed = (failures.get(peerId) ?? 0) + 1;
      failures.set(peerId, failed);
      const listed = roster.listed(peerId) !== undefined;
      // One failure is no proof that a listed peer is gone (a reloaded tab first hears the dials
      // its peers made to its old page): it leaves on the second in a row, or if it left already.
      if (failed < MAX_FAILED_DIALS && roster.vouched(peerId)) {
        if (waiting.has(peerId)) host.later(REDIAL_MS, () => self.redial(peerId));
        return;
      }
      waiting.reject(peerId, error);
      if (!listed) return;
      roster.suspect(peerId, true);
      host.update(peerId, `unreachable: ${String(error)}`);
      if (failed <= MAX_REDIALS)
        host.later(REDIAL_MS * 2 ** (failed - 1), () => self.redial(peerId));
    },
    redial(peerId) {
      if (roster.listed(peerId) !== undefined && !host.linked(peerId)) self.dial(peerId);
    },
  };
  return self;
}
