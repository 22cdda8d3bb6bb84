import type { Page } from '@playwright/test';
import { expect, lanes, nodeId, storedKeys, test } from 'handout/testing';

/** Clicks Run on `tab` and checks the sum of squares, one square made on each of the tabs. */
async function runAcross(tab: Page, tabs: Page[]): Promise<void> {
  await tab.getByRole('button', { name: 'Run' }).click();
  const squares = tabs.map((_, i) => (i + 1) ** 2).reduce((a, b) => a + b, 0);
  await expect(tab.getByTestId('result')).toHaveText(String(squares));
  await expect(tab.getByTestId('ran-on')).toHaveText(String(tabs.length));
  // Each tab keeps what it made in its own store, under the run's DAG id.
  const dagId = (await tab.getByTestId('dag').textContent()) ?? '';
  const kept = await Promise.all(tabs.map((t) => storedKeys(t, dagId)));
  for (const keys of kept) expect(keys.some((k) => k.startsWith('square-'))).toBe(true);
  expect(kept.flat()).toEqual(expect.arrayContaining(['square-1', 'square-2', 'square-3', 'sum']));
}

test('three tabs of one browser run a DAG across the room', async ({ tabs }) => {
  const pages = await tabs(3, { url: '/' });
  for (const tab of pages) await expect(tab.getByTestId('peers')).toHaveText('2');
  expect(new Set(await Promise.all(pages.map((tab) => nodeId(tab)))).size).toBe(3);
  // Peers are known from the room list; a link opens when there is something to send.
  expect(Object.values(await lanes(pages[0] as Page))).toEqual(['none', 'none']);
  await runAcross(pages[0] as Page, pages);
  // Tabs of one browser talk over MessagePorts (the package's SharedWorker made it into the
  // app's production build), not WebRTC.
  expect(Object.values(await lanes(pages[0] as Page))).toEqual(['same-browser', 'same-browser']);
  // 8 MiB from a peer over the lane, into a buffer the package's helper Worker made ready
  // (that Worker's script, too, made it into the app's build).
  const tab = pages[0] as Page;
  await tab.getByRole('button', { name: 'Take 8 MiB from a peer' }).click();
  await expect(tab.getByTestId('checksum')).toHaveText(String(checksum(8 << 20)));
  expect(tab.workers().some((w) => /warm-worker/.test(w.url()))).toBe(true);
});

/** What the app's `checksum` of its `bytes(n)` comes to. */
function checksum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + (i % 251)) % 1_000_003;
  return sum;
}

test('three tabs in separate browsers run it over WebRTC', async ({ tabs }) => {
  const pages = await tabs(3, { url: '/', sameBrowser: false });
  await runAcross(pages[1] as Page, pages);
  expect(Object.values(await lanes(pages[1] as Page))).toEqual(['webrtc', 'webrtc']);
});
