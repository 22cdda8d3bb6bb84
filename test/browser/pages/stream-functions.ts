// Functions of the pipeline tests: an init that counts its runs in this tab, stages that use
// its state, fail one item, batch, or wait for a gate.
import { withContext } from '../../../src/index.ts';

/** What ran in this tab: inits, and the sizes of the batches a batching stage got. */
export const streamCounts = { inits: 0, batches: [] as number[] };
let release: (() => void) | undefined;
const released = new Promise<void>((resolve) => {
  release = resolve;
});

/** Opens the gate `streamHeld` waits on, for good. */
export function openStreamGate(): void {
  release?.();
}

export const streamFunctions = {
  streamInit: withContext((ctx) => {
    streamCounts.inits++;
    return { offset: 1000, host: ctx.nodeId };
  }),
  streamLookup: withContext((ctx, x: number) => x + (ctx.state as { offset: number }).offset),
  streamDouble: (x: number) => {
    if (x === 1500) throw new RangeError('item 500 fails');
    return x * 2;
  },
  streamTag: withContext((ctx, x: number) => ({ x, at: ctx.nodeId })),
  streamBatch: (xs: number[]) => {
    streamCounts.batches.push(xs.length);
    return xs.map((x) => x + 1);
  },
  streamHeld: async (x: number) => {
    await released;
    return x;
  },
};
