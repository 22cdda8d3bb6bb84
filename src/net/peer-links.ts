import type { Resources } from '../resources.ts';
import type { Link } from './link.ts';

/** One link to a peer, as the mesh keeps it. */
export interface Entry {
  readonly link: Link;
  /** Its handshake is done. */
  ready: boolean;
  /** What the peer said it offers in the handshake. */
  capabilities: Resources;
}

/**
 * The links this node holds, by peer: the one messages go out on, and extras beside it (both
 * sides dialled at once). An extra carries what the peer sends on it and takes the main one's
 * place if that closes, so a second channel never replaces one that may be carrying a value.
 */
export class PeerLinks {
  readonly #main = new Map<string, Entry>();
  readonly #extras = new Map<string, Entry[]>();

  /** `selfId`: this node's id, which says which of two channels both sides keep. */
  constructor(readonly selfId: string) {}

  /** The link messages to the peer go out on. */
  get(peerId: string): Entry | undefined {
    return this.#main.get(peerId);
  }

  has(peerId: string): boolean {
    return this.#main.has(peerId);
  }

  hasExtras(peerId: string): boolean {
    return this.#extras.has(peerId);
  }

  /** The peer's main link, or an extra if it has one already. */
  add(peerId: string, entry: Entry): void {
    if (!this.#main.has(peerId)) this.#main.set(peerId, entry);
    else this.#extras.set(peerId, [...(this.#extras.get(peerId) ?? []), entry]);
  }

  /** Takes the link out, main or extra; true if it was the main one. */
  remove(peerId: string, entry: Entry): boolean {
    if (this.#main.get(peerId) === entry) {
      this.#main.delete(peerId);
      return true;
    }
    const extras = (this.#extras.get(peerId) ?? []).filter((e) => e !== entry);
    if (extras.length > 0) this.#extras.set(peerId, extras);
    else this.#extras.delete(peerId);
    return false;
  }

  /**
   * With no main link, the first extra that is not being retired becomes it (one this side is
   * retiring sends nothing more, and closes soon).
   */
  promote(peerId: string): Entry | undefined {
    if (this.#main.has(peerId)) return undefined;
    const next = this.extrasOf(peerId).find((e) => e.link.state !== 'retiring');
    if (next === undefined) return undefined;
    this.prefer(peerId, next);
    return next;
  }

  /** The peer's extra links. */
  extrasOf(peerId: string): readonly Entry[] {
    return this.#extras.get(peerId) ?? [];
  }

  /**
   * A link's handshake is done: an extra ready before the main link (stuck in its handshake)
   * carries the messages from now on.
   */
  readied(peerId: string, entry: Entry): void {
    if (this.#main.get(peerId)?.ready === false) this.prefer(peerId, entry);
  }

  /**
   * Of two links to a peer, both sides keep the same one (see {@link #keeps}). A side whose
   * main link is the other moves to it only once that main is `quiet`: what went out on it
   * arrived long ago, so no message overtakes an earlier one on the other channel.
   */
  agree(quiet: (main: Entry) => boolean): void {
    for (const [peerId, extras] of [...this.#extras]) {
      const main = this.#main.get(peerId);
      if (main === undefined || !quiet(main)) continue;
      const kept = extras.find((e) => e.link.state === 'ready' && this.#keeps(e, main));
      if (kept !== undefined) this.prefer(peerId, kept);
    }
  }

  /**
   * Whether `entry` is the link both sides keep of two, when both dialled at once: the one the
   * lower id dialled. Each side retires its extra once idle; were each to keep the channel it
   * adopted first (often its own dial), they would retire both. Unknown for a pipe that does not
   * say who dialled: the first stays.
   */
  #keeps(entry: Entry, other: Entry): boolean {
    const [mine, theirs] = [entry.link.channel.answers, other.link.channel.answers];
    if (mine === undefined || theirs === undefined || mine === theirs) return false;
    return !mine === this.selfId < entry.link.peerId;
  }

  /** Makes `entry` the main link (one that got ready before the main one); the main becomes an extra. */
  prefer(peerId: string, entry: Entry): void {
    const main = this.#main.get(peerId);
    if (main === entry) return;
    const extras = (this.#extras.get(peerId) ?? []).filter((e) => e !== entry);
    if (main !== undefined) extras.push(main);
    this.#main.set(peerId, entry);
    if (extras.length > 0) this.#extras.set(peerId, extras);
    else this.#extras.delete(peerId);
  }

  /** Takes every link to the peer out, and returns them. */
  clear(peerId: string): Entry[] {
    const all = [...(this.#extras.get(peerId) ?? [])];
    const main = this.#main.get(peerId);
    if (main !== undefined) all.unshift(main);
    this.#main.delete(peerId);
    this.#extras.delete(peerId);
    return all;
  }

  /** Main links by peer. */
  mains(): IterableIterator<[string, Entry]> {
    return this.#main.entries();
  }

  extras(): Entry[] {
    return [...this.#extras.values()].flat();
  }

  all(): Entry[] {
    return [...this.#main.values(), ...this.extras()];
  }
}
