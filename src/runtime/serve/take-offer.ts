import { Assembly } from '../../data/assembly.ts';
import { partSizes } from '../../data/parts.ts';
import type { StagedParts } from '../../data/store.ts';
import { DataNotFoundError } from '../../errors.ts';
import type { Rpc } from '../../net/rpc.ts';
import { call } from '../base/calls.ts';
import { OFFER, type Offer } from './offers.ts';

/** Parts asked for ahead of the one being taken. */
const AHEAD = 2;

/**
 * Takes a value a peer offered in parts (see `offers.ts`), one part after another: the next two
 * are asked for while this one is copied into the value's buffers and written to `staged` (the
 * peer reads one from its store while it sends the other), so the value is held once, plus a
 * few parts. Each request lasts as long as its bytes keep coming. A part of the wrong size fails
 * the fetch as a lost input. Throws `RangeError` when the page cannot hold the value.
 */
export async function takeOffer(
  rpc: Rpc,
  peer: string,
  key: { readonly dagId: string; readonly dataId: string },
  offer: Offer,
  staged: StagedParts | undefined,
  signal?: AbortSignal,
): Promise<unknown> {
  const { dagId, dataId } = key;
  const assembly = new Assembly(offer.head); // first: it fails at once for more than fits
  const sizes = partSizes(offer.head);
  const token = offer[OFFER];
  const ask = (index: number) =>
    call(rpc, peer, 'data.part', { dagId, dataId, token, index }, { idle: true, signal });
  const asked: Promise<Uint8Array>[] = [];
  for (let i = 0; i < Math.min(AHEAD, sizes.length); i++) asked.push(ask(i));
  try {
    for (const [i, bytes] of sizes.entries()) {
      const part = await (asked.shift() as Promise<Uint8Array>);
      if (i + AHEAD < sizes.length) asked.push(ask(i + AHEAD));
      if (part.byteLength !== bytes || !assembly.add(part)) {
        const size = `${part.byteLength} bytes, not ${bytes}`;
        throw new DataNotFoundError(dagId, dataId, `part ${i} from ${peer} is ${size}`);
      }
      // The parts asked ahead keep coming meanwhile (measured: letting the writes fall four
      // parts behind took no more per second, and 0.15-0.3x more memory).
      await staged?.part(i, part);
    }
  } finally {
    for (const left of asked) left.catch(() => undefined); // asked ahead, and not taken
  }
  const whole = assembly.value();
  if (whole === undefined)
    throw new DataNotFoundError(dagId, dataId, `the parts from ${peer} did not add up`);
  return whole.value;
}
