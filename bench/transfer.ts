import type { BrowserServer, Page } from '@playwright/test';
import { canMeasure, peakGrowth, rendererPids, resetPeaks } from './process-memory.ts';
import { type BenchConfig, deadline, progress, round, type Scenario, summary } from './stats.ts';

/** Which pair of tabs a transfer measures, as its rows name and describe it. */
export interface TransferPair {
  /** The rows' name: `transfer` (its raw baseline `transfer-raw`). */
  readonly name: string;
  /** Who sends to whom, for the note. @default 'tab to tab (two browsers)' */
  readonly between?: string;
  /** The receiving Chromium, whose renderer's peak memory is measured; none for Firefox. */
  readonly receiverServer?: BrowserServer;
}

/**
 * A 64 MiB ArrayBuffer from tab `a` to tab `b` (separate browsers), beside a raw
 * RTCDataChannel between the same two. `a` and `b` are Playwright pages or Firefox ones
 * (anything that evaluates as a Playwright page does), each in one pair only.
 */
export async function transferScenarios(
  a: Pick<Page, 'evaluate'>,
  b: Pick<Page, 'evaluate'>,
  coordinator: string,
  config: BenchConfig,
  pair: TransferPair = { name: 'transfer' },
): Promise<Scenario[]> {
  const { name, between = 'tab to tab (two browsers)', receiverServer } = pair;
  const TRANSFER_MIB = config.option('transfer-mib', 64);
  const { warmup: WARMUP, runs: RUNS } = config;
  const bytes = TRANSFER_MIB << 20;
  const mbps = (ms: number) => bytes / 1e6 / (ms / 1000);
  const room = `bench-${name}-${Date.now()}`;
  const [, idb] = await Promise.all([
    a.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), { c: coordinator, r: room }),
    b.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), { c: coordinator, r: room }),
  ]);
  await a.evaluate((id) => window.transfer.handoutWaitFor(id), idb);
  const offer = await a.evaluate(() => window.transfer.rawOffer());
  const answer = await b.evaluate((o) => window.transfer.rawAnswer(o), offer);
  await a.evaluate((ans) => window.transfer.rawAccept(ans), answer);

  const pids =
    receiverServer === undefined ? undefined : rendererPids(receiverServer.process().pid as number);
  const handout: number[] = [];
  const raw: number[] = [];
  const heap: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    progress(`${name} ${TRANSFER_MIB} MiB: run ${i + 1} of ${WARMUP + RUNS}`);
    // Raw first, then Handout, alternating within each run so both see the same conditions.
    // Armed first: a small transfer may all arrive before a receiver armed alongside it.
    await b.evaluate((n) => window.transfer.rawExpect(n), bytes);
    const arrived = b.evaluate(() => window.transfer.rawArrived());
    arrived.catch(() => undefined); // its failure is reported where it is awaited
    const started = await deadline(
      a.evaluate((n) => window.transfer.rawSend(n), bytes),
      120_000,
      `raw send, run ${i + 1}`,
    );
    const rawMs = (await deadline(arrived, 120_000, `raw receive, run ${i + 1}`)) - started;
    await b.evaluate(() => (globalThis as { gc?: () => void }).gc?.());
    const base = pids !== undefined && canMeasure() ? resetPeaks(pids) : undefined;
    const handoutMs = await deadline(
      a.evaluate(({ id, n }) => window.transfer.handoutSend(id, n), { id: idb, n: bytes }),
      120_000,
      `Handout transfer, run ${i + 1}`,
    );
    if (i < WARMUP) continue;
    raw.push(mbps(rawMs));
    handout.push(mbps(handoutMs));
    if (base !== undefined) heap.push(peakGrowth(base) / bytes);
  }
  const rawSummary = summary(`${name}-raw`, 'MB/s', raw);
  const handoutSummary = summary(name, 'MB/s', handout);
  const out: Scenario[] = [
    {
      ...handoutSummary,
      anchor: { name: `${name}-raw`, median: rawSummary.median },
      ratio: round(handoutSummary.median / rawSummary.median),
      target: '>= 0.90 of raw',
      note: `${TRANSFER_MIB} MiB ArrayBuffer, ${between}, through Handout's transport`,
    },
    {
      ...rawSummary,
      anchor: null,
      ratio: null,
      note: `one raw ordered RTCDataChannel, 64 KiB messages, ${between}`,
    },
  ];
  if (heap.length > 0) {
    out.push({
      ...summary(`${name}-memory`, 'x payload', heap),
      anchor: null,
      ratio: null,
      target: '<= 2x',
      note: "receiving tab's peak resident memory growth over the payload size",
    });
  }
  return out;
}
