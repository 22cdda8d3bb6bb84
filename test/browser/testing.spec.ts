// handout/testing's fixtures, used as an app's tests use them: on a page that is not the test
// harness (the demo, as `npm start` serves it), which reads its own coordinator and room from
// its URL; `tabs` makes it join the test's room anyway.
import type { Page } from '@playwright/test';
import {
  expect,
  lanes,
  nodeId,
  storedKeys,
  test,
  waitForPeers,
} from '../../src/testing/playwright.ts';
import { DEMO_PORT } from './ports.ts';

const DEMO = `http://127.0.0.1:${DEMO_PORT}/`;

test('tabs(3) opens the demo as three tabs of one browser in one room, over same-browser lanes', async ({
  tabs,
}) => {
  const pages = await tabs(3, { url: DEMO });
  const ids = await Promise.all(pages.map((page) => nodeId(page)));
  expect(new Set(ids).size).toBe(3);
  for (const [i, page] of pages.entries()) {
    await expect(page.locator('#peer-count')).toHaveText('2');
    expect(await waitForPeers(page, 2)).toEqual(ids.filter((_, j) => j !== i).sort());
  }
  const second = pages[1] as Page;
  await second.getByRole('button', { name: 'Word count' }).click();
  const card = second.locator('.run').filter({ hasText: 'Word count' });
  await expect(card).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  // The run linked its tab to the others, over the same-browser lanes.
  await expect(second.locator('#peers .lane')).toHaveText(['same browser', 'same browser']);
  // The run's results stay where they were made: every tab keeps some, under the run's DAG id.
  const dagId = await second.evaluate(async () => {
    const hook = (
      globalThis as unknown as Record<string, { nodes: { dags(): Promise<string[]> }[] }>
    ).__HANDOUT_TESTING__;
    return (await hook?.nodes[0]?.dags())?.[0];
  });
  expect(dagId).toBeDefined();
  const kept = await Promise.all(pages.map((page) => storedKeys(page, dagId as string)));
  expect(kept.filter((keys) => keys.length > 0).length).toBeGreaterThanOrEqual(2);
});

test('tabs(2, { sameBrowser: false }) opens separate browsers that meet over WebRTC', async ({
  tabs,
}) => {
  const pages = await tabs(2, { url: DEMO, sameBrowser: false, room: 'testing-apart' });
  const first = pages[0] as Page;
  expect(Object.values(await lanes(first))).toEqual(['none']); // no link until one is needed
  await first.getByRole('button', { name: 'Word count' }).click();
  const card = first.locator('.run').filter({ hasText: 'Word count' });
  await expect(card).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  for (const page of pages) {
    await expect(page.locator('#peers .lane')).toHaveText(['WebRTC']);
    expect(Object.values(await lanes(page))).toEqual(['webrtc']);
  }
});
