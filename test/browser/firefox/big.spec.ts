import { type AnyTab, runFetching } from '../room.ts';
import { expect, firefoxTab, join, test } from './fixtures.ts';

// Big values in Firefox. Firefox takes one IndexedDB record of 400 MiB (Chromium refuses one
// above about 127 MiB); the store cuts values above 32 MiB into 8 MiB parts in every browser,
// so a Firefox tab serves and fetches them part by part as a Chromium tab does.

test.describe.configure({ timeout: 180_000 });

const MIB = 40;
const PARTS = Math.ceil(MIB / 8);

const keysOf = async (tab: AnyTab, dagId: string) =>
  (
    (await tab.page.evaluate(
      (db) => window.harness.rawKeys(db),
      `handout-${tab.id}`,
    )) as unknown[][]
  )
    .filter((key) => key[0] === dagId && key[1] === 'big')
    .map((key) => key.slice(1));

test(`Firefox: a ${MIB} MiB result is kept in parts, fetched over the lane, read with result() from another Firefox, and cleared`, async ({
  firefoxContext,
  firefoxPage,
}) => {
  const one = await firefoxContext();
  const [A, B, C] = await join('fx-big', [
    firefoxTab(await firefoxPage(one), 'fxb-A'),
    firefoxTab(await firefoxPage(one), 'fxb-B'),
    firefoxTab(await firefoxPage(), 'fxb-C'),
  ]);
  const dagId = 'fx-big-dag';
  const run = await runFetching(A, dagId, [
    { id: 'big', fn: 'bigFloats', extraArgs: [MIB], node: B.id },
    { id: 'check', fn: 'checkFloats', args: ['big'], node: A.id },
  ]);
  expect(run).toEqual({
    results: { check: { mib: MIB, wrong: 0 } },
    fetched: [`big ${B.id}->${A.id} same-browser`],
  });
  // The producer keeps a head and its parts; so does the consumer that fetched it.
  for (const tab of [B, A]) expect(await keysOf(tab, dagId)).toHaveLength(1 + PARTS);
  // A Firefox that holds nothing reads it whole over WebRTC.
  expect(
    await C.page.evaluate((args) => window.harness.checkedResult(...args), [
      C.id,
      dagId,
      'big',
    ] as const),
  ).toEqual({ mib: MIB, wrong: 0 });
  // Clearing the DAG removes every part of it everywhere.
  await A.page.evaluate(({ id, dagId }) => window.harness.nodes.get(id)?.clear(dagId), {
    id: A.id,
    dagId,
  });
  for (const tab of [A, B, C]) expect(await keysOf(tab, dagId)).toEqual([]);
});
