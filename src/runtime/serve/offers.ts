import {
  isHead,
  type PartSizes,
  type PartsHead,
  partCount,
  partViews,
  type StoredParts,
  splitIfBig,
} from '../../data/parts.ts';
import { DataNotFoundError } from '../../errors.ts';

/**
 * Big values offered in parts. A peer that asks `data.get` with `parts` for a big value gets an
 * offer instead of the value: the value's head (its shape, each binary's size) and a token. It
 * then asks `data.part` for each part in turn, and can write each to its store as it comes
 * (`ResultStore.stageParts`), never holding the value twice. An offer reads its parts from the
 * store one at a time (a value kept in parts), or cuts them from the value in memory.
 */

/** The key that marks an answer to `data.get` as an offer. */
export const OFFER = '\u0000handout:offer';
/** An offer nobody has asked a part of for this long is dropped. */
const OFFER_IDLE_MS = 120_000;
/** Offers open at once for one peer; a new one past this drops the oldest. */
const MAX_PER_PEER = 64;

/** An answer to `data.get`: the value's head, its parts to be asked for with the token. */
export interface Offer {
  readonly [OFFER]: string;
  readonly head: PartsHead;
}

interface Open {
  readonly peer: string;
  readonly dagId: string;
  readonly dataId: string;
  readonly epoch: number;
  readonly source: StoredParts;
  readonly count: number;
  timer: ReturnType<typeof setTimeout>;
}

/** The offers this node has made, by token. */
export class Offers {
  readonly #open = new Map<string, Open>();
  #next = 0;

  /** Offers `source`'s parts of `<dagId, dataId>` (of run `epoch`) to `peer`. */
  offer(peer: string, dagId: string, dataId: string, epoch: number, source: StoredParts): Offer {
    const mine = [...this.#open].filter(([, o]) => o.peer === peer);
    if (mine.length >= MAX_PER_PEER) this.#drop(mine[0]?.[0] ?? '');
    const token = String(++this.#next);
    const count = partCount(source.head);
    this.#open.set(token, { peer, dagId, dataId, epoch, source, count, timer: this.#timer(token) });
    return { [OFFER]: token, head: source.head };
  }

  /**
   * The offer `token` made to `peer` for `<dagId, dataId>`, its idle time started again; fails
   * with `DataNotFoundError` when there is none (dropped, or never made).
   */
  take(peer: string, dagId: string, dataId: string, token: string): Open {
    const open = this.#open.get(token);
    if (open === undefined || open.peer !== peer || open.dagId !== dagId || open.dataId !== dataId)
      throw new DataNotFoundError(dagId, dataId, 'its offer of parts is over');
    clearTimeout(open.timer);
    open.timer = this.#timer(token);
    return open;
  }

  /** Part `index` of an offer; the last one ends it. */
  async part(token: string, open: Open, index: number): Promise<Uint8Array> {
    if (index >= open.count)
      throw new DataNotFoundError(open.dagId, open.dataId, `it has ${open.count} parts`);
    if (index === open.count - 1) this.#drop(token);
    const part = await open.source.part(index);
    return ArrayBuffer.isView(part)
      ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
      : new Uint8Array(part);
  }

  /** Drops the offers of a DAG (its run ended or was wiped here) or of a peer that left. */
  drop(match: (open: { readonly peer: string; readonly dagId: string }) => boolean): void {
    for (const [token, open] of this.#open) if (match(open)) this.#drop(token);
  }

  #drop(token: string): void {
    clearTimeout(this.#open.get(token)?.timer);
    this.#open.delete(token);
  }

  #timer(token: string): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.#open.delete(token), OFFER_IDLE_MS);
    (timer as { unref?: () => void }).unref?.(); // never keeps a Node.js process alive
    return timer;
  }
}

/** A value in memory as parts to offer, or undefined when it is not big. */
export function partsInMemory(value: unknown, sizes?: PartSizes): StoredParts | undefined {
  const cut = splitIfBig(value, sizes);
  if (cut === undefined) return undefined;
  // Views, not copies: the framing copies what it sends into frames of its own.
  const views = [...partViews(cut)];
  return { head: cut.head, part: async (i) => views[i] ?? new Uint8Array(0) };
}

/** Bounds of a well-formed offer: parts of at least 4 KiB, at most 4 Mi of them (32 TiB in 8 MiB). */
const MIN_PART_BYTES = 4096;
const MAX_PARTS = 1 << 22;

/** An offer in an answer to `data.get`, checked; undefined for a value (`invalid`: a bad one). */
export function offerIn(answer: unknown): Offer | 'invalid' | undefined {
  if (typeof answer !== 'object' || answer === null || !(OFFER in answer)) return undefined;
  const { [OFFER]: token, head } = answer as Partial<Offer>;
  if (typeof token !== 'string' || token.length === 0 || token.length > 64) return 'invalid';
  if (!isHead(head) || head.partBytes < MIN_PART_BYTES || partCount(head) > MAX_PARTS)
    return 'invalid';
  return { [OFFER]: token, head };
}
