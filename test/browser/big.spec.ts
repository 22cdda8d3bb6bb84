import type { BrowserContext } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { browserOf, tabs } from './lanes-helpers.ts';
import { runFetching, type Tab } from './room.ts';

// Values larger than one IndexedDB record (Chromium refuses one above about 127 MiB): kept in
// parts, served and fetched, read back, cleared, and failing cleanly at the quota.

test.describe.configure({ timeout: 300_000 });

const PART_MIB = 8;

/** Runs `big` (a `mib` MiB Float64Array) on `producer` and `check` of it on `consumer`. */
const bigRun = (from: Tab, dagId: string, mib: number, producer: Tab, consumer: Tab) =>
  runFetching(from, dagId, [
    { id: 'big', fn: 'bigFloats', extraArgs: [mib], node: producer.id },
    { id: 'check', fn: 'checkFloats', args: ['big'], node: consumer.id },
  ]);

/** The keys a tab's own database holds for one DAG, read without the library. */
async function keysOf(tab: Tab, dagId: string): Promise<unknown[][]> {
  const keys = await tab.page.evaluate((db) => window.harness.rawKeys(db), `handout-${tab.id}`);
  return (keys as unknown[][]).filter((key) => key[0] === dagId);
}

const partsOf = (mib: number) => Math.ceil(mib / PART_MIB);
/** Where a store marks the values it is writing as they arrive (`idb-staging.ts`). */
const STAGING = '\u0000handout:staging';

/** `big` of the DAG read with `result()` on `tab`, checked there (it never leaves the page). */
const resultOn = (tab: Tab, dagId: string) =>
  tab.page.evaluate((args) => window.harness.checkedResult(...args), [
    tab.id,
    dagId,
    'big',
  ] as const);

async function closeAll(...contexts: BrowserContext[]) {
  for (const context of contexts) await context.close();
}

test('one browser: a 300 MiB result is kept in parts, fetched over the lane, read with result(), and cleared part by part', async ({
  browser,
  harnessPage,
}) => {
  const context = await browserOf(browser, true);
  const [A, B, C] = await tabs(harnessPage, 'big-lane', [context, context, context]);
  const dagId = 'big-300';
  const run = await bigRun(A, dagId, 300, B, A);
  expect(run.results).toEqual({ check: { mib: 300, wrong: 0 } });
  expect(run.fetched).toEqual([`big ${B.id}->${A.id} same-browser`]);

  // The producer keeps a head and its parts; so does the consumer that fetched it, which wrote
  // each part as it came, under the stamp of its staging ([dagId, dataId, stamp, i]).
  for (const tab of [B, A]) {
    const keys = await keysOf(tab, dagId);
    expect(keys.filter((k) => k[1] === 'big')).toHaveLength(1 + partsOf(300));
  }
  expect((await keysOf(A, dagId)).filter((k) => k.length === 4)).toHaveLength(partsOf(300));
  expect(await keysOf(A, STAGING)).toEqual([]); // its staging is over
  // A tab that holds nothing reads it whole from a peer.
  expect(await resultOn(C, dagId)).toEqual({ mib: 300, wrong: 0 });

  // Clearing the DAG removes every record of it, parts included, everywhere.
  await A.page.evaluate((dagId) => window.harness.nodes.get('big-lane-A')?.clear(dagId), dagId);
  for (const tab of [A, B, C]) expect(await keysOf(tab, dagId)).toEqual([]);
  await closeAll(context);
});

test('separate browsers: a 160 MiB result crosses WebRTC to its consumer and to result() on a third browser', async ({
  browser,
  harnessPage,
}) => {
  const [x, y, z] = [
    await browserOf(browser, true),
    await browserOf(browser, true),
    await browserOf(browser, true),
  ];
  const [A, B, C] = await tabs(harnessPage, 'big-rtc', [x, y, z]);
  const dagId = 'big-160';
  const run = await bigRun(A, dagId, 160, B, A);
  expect(run.results).toEqual({ check: { mib: 160, wrong: 0 } });
  expect(run.fetched).toEqual([`big ${B.id}->${A.id} webrtc`]);
  expect((await keysOf(A, dagId)).filter((k) => k[1] === 'big')).toHaveLength(1 + partsOf(160));
  expect((await keysOf(A, dagId)).filter((k) => k.length === 4)).toHaveLength(partsOf(160));
  expect(await resultOn(C, dagId)).toEqual({ mib: 160, wrong: 0 });
  await closeAll(x, y, z);
});

test('a tab reloaded while a big value is being written leaves no part of it behind', async ({
  harnessPage,
}) => {
  const page = await harnessPage();
  await page.evaluate(async () => {
    const node = await window.harness.node({ id: 'reload-big' });
    // Resolves when the store puts its first part: the value is being written from then on.
    const writing = new Promise<void>((resolve) => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, value, key) {
        if (Array.isArray(key) && key.length === 3) resolve();
        return put.call(this, value, key);
      };
    });
    const dag = new window.harness.Dag('reload-big').add({
      id: 'big',
      fn: 'bigFloats',
      extraArgs: [300],
    });
    void node.execute(dag).catch(() => undefined);
    await writing;
  });
  await page.reload();
  await expect(page.locator('#status')).toHaveText('ready');
  const keys = await page.evaluate(() => window.harness.rawKeys('handout-reload-big'));
  expect(keys.filter((key) => (key as unknown[])[0] === 'reload-big')).toEqual([]);
  // The node comes back, and the item is simply not there.
  const after = await page.evaluate(async () => {
    const node = await window.harness.node({ id: 'reload-big' });
    return node.store.has('reload-big', 'big');
  });
  expect(after).toBe(false);
});

test('a consumer tab reloaded while a big value comes in, part by part, leaves none of it behind', async ({
  browser,
  harnessPage,
}) => {
  const context = await browserOf(browser, true);
  const [A, B] = await tabs(harnessPage, 'big-reload', [context, context]);
  const dagId = 'big-reload';
  // Resolves when A's store writes the first part of a value as it arrives.
  await A.page.evaluate(() => {
    const started = new Promise<void>((resolve) => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, value, key) {
        if (Array.isArray(key) && key.length === 4) resolve();
        return put.call(this, value, key);
      };
    });
    (globalThis as { staging?: Promise<void> }).staging = started;
  });
  void bigRun(B, dagId, 160, B, A).catch(() => undefined); // it fails or waits: A is gone
  await A.page.evaluate(() => (globalThis as { staging?: Promise<void> }).staging);
  expect((await keysOf(A, dagId)).filter((k) => k.length === 4).length).toBeGreaterThan(0);
  await A.page.reload();
  await expect(A.page.locator('#status')).toHaveText('ready');
  // The tab's node comes back on the same database; its first read sweeps what was staged.
  const has = await A.page.evaluate(
    async ([id, dagId]) => (await window.harness.node({ id })).store.has(dagId, 'big'),
    [A.id, dagId] as const,
  );
  expect(has).toBe(false);
  expect(await keysOf(A, dagId)).toEqual([]);
  expect(await keysOf(A, STAGING)).toEqual([]);
  await closeAll(context);
});

test('past the origin quota the run fails with StorageError saying what was needed and what the origin has', async ({
  harnessPage,
}) => {
  const page = await harnessPage();
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 64 * 2 ** 20 });
  const outcome = await page.evaluate(async () => {
    const node = await window.harness.node({ id: 'quota-big' });
    const dag = new window.harness.Dag('quota-big').add({
      id: 'big',
      fn: 'bigFloats',
      extraArgs: [160],
    });
    const error = await node.execute(dag).then(
      () => undefined,
      (e: Error & { code?: string }) => ({ name: e.name, code: e.code, message: e.message }),
    );
    return { error, has: await node.store.has('quota-big', 'big') };
  });
  expect(outcome.error?.code).toBe('storage');
  expect(outcome.error?.message).toMatch(/item 'big'/);
  expect(outcome.error?.message).toMatch(
    /needed about 160\.0 MiB; the origin uses [\d.]+ MiB of its [\d.]+ MiB quota/,
  );
  expect(outcome.has).toBe(false);
  const keys = await page.evaluate(() => window.harness.rawKeys('handout-quota-big'));
  expect(keys.filter((key) => (key as unknown[])[0] === 'quota-big')).toEqual([]);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
});
