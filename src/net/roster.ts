import type { Resources } from '../resources.ts';

/** A room member as the coordinator lists it. */
export interface Member {
  readonly id: string;
  /** The node instance behind the id: a reloaded tab comes back with a new one. */
  readonly session: string;
  /** What it offers, as it said when it joined the room. */
  readonly capabilities: Resources;
}

interface Listed extends Member {
  /** Its link broke or could not be made: not offered to the runs until a link works again. */
  suspect: boolean;
}

/** What the roster says changed for one peer. */
export type RosterChange = 'join' | 'leave' | undefined;

/**
 * Who is in the room, for a node that links to its peers only when it has something to send
 * them: a peer is known while the coordinator lists it (and no link to it has just failed), or
 * while a link to it is up (a peer cut off from the coordinator, not from us). Its joins and
 * leaves are the changes of that set. Pure bookkeeping: the mesh asks, then emits.
 */
export class Roster {
  readonly #listed = new Map<string, Listed>();
  readonly #known = new Map<string, Resources>();

  constructor(readonly linked: (id: string) => Resources | undefined) {}

  /** Known peers and what they offer. */
  known(): ReadonlyMap<string, Resources> {
    return this.#known;
  }

  listed(id: string): Member | undefined {
    return this.#listed.get(id);
  }

  /** Listed and not suspect: its link may close when idle, the list still vouches for it. */
  vouched(id: string): boolean {
    return this.#listed.get(id)?.suspect === false;
  }

  list(member: Member): void {
    this.#listed.set(member.id, { ...member, suspect: false });
  }

  unlist(id: string): void {
    this.#listed.delete(id);
  }

  /** Ids listed now, for comparing with a fresh member list. */
  ids(): string[] {
    return [...this.#listed.keys()];
  }

  suspect(id: string, suspect: boolean): void {
    const listed = this.#listed.get(id);
    if (listed !== undefined) listed.suspect = suspect;
  }

  /** Forgets that the peer was known (it restarted): the next {@link update} says `join`. */
  reset(id: string): boolean {
    return this.#known.delete(id);
  }

  /** Recomputes whether the peer is known and says how that changed. */
  update(id: string): RosterChange {
    const listed = this.#listed.get(id);
    const capabilities =
      listed !== undefined && !listed.suspect ? listed.capabilities : this.linked(id);
    const was = this.#known.has(id);
    if (capabilities === undefined) {
      this.#known.delete(id);
      return was ? 'leave' : undefined;
    }
    this.#known.set(id, capabilities);
    return was ? undefined : 'join';
  }
}
