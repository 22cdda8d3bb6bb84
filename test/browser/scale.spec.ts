import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { coordinator } from './room.ts';

const TABS = 12;
const IDLE_MS = 1500;

/** A tab's links: open now, opened so far, and the RTCPeerConnections it made. */
const links = (page: Page, id: string) =>
  page.evaluate((id) => window.harness.nodes.get(id)?.links(), id);

/** One task pinned on every tab, and a sum on tab 5 taking them all: links from 0 and from 5. */
const acrossAll = (page: Page, orchestrator: string, ids: string[], seed: number) =>
  page.evaluate(
    async ({ orchestrator, ids, seed }) => {
      const dag = new window.harness.Dag();
      for (const [i, id] of ids.entries())
        dag.add({ id: `v${i}`, fn: 'identity', extraArgs: [seed + i], node: id });
      dag.add({ id: 'sum', fn: 'add', args: ids.map((_, i) => `v${i}`), node: ids[5] });
      const run = await window.harness.nodes.get(orchestrator)?.execute(dag, { collect: 'sinks' });
      return run?.results.sum;
    },
    { orchestrator, ids, seed },
  );

/**
 * A room of 12 tabs, each a browser of its own (WebRTC between every pair): peers know each other
 * from the coordinator's room list without a single link, open links for the work they are
 * given, and close them once idle, so no tab holds a link to every other for long.
 */
test('12 tabs: no link until there is work, every link closed once idle, runs right each time', async ({
  harnessPage,
}) => {
  test.setTimeout(180_000);
  const pages: Page[] = [];
  for (let i = 0; i < TABS; i++) pages.push(await harnessPage());
  const ids = pages.map((_, i) => `scale-${String(i).padStart(2, '0')}`);
  await Promise.all(
    pages.map((page, i) =>
      page.evaluate(
        ({ c, id, idle }) =>
          window.harness
            .node({ coordinator: c, room: 'scale-12', id, idleLinkMs: idle })
            .then(() => undefined),
        { c: coordinator(), id: ids[i] as string, idle: IDLE_MS },
      ),
    ),
  );
  await Promise.all(
    pages.map((page, i) =>
      page.evaluate((id) => window.harness.waitForPeers(id, 11), ids[i] as string),
    ),
  );
  // The whole room is known, and not one link was needed for that.
  for (const [i, page] of pages.entries())
    expect(await links(page, ids[i] as string)).toMatchObject({ open: 0, opened: 0 });

  const sum = (seed: number) => ids.reduce((s, _, i) => s + seed + i, 0);
  expect(await acrossAll(pages[0] as Page, ids[0] as string, ids, 100)).toBe(sum(100));
  // The orchestrator opened a link to every other tab (it sent each an order); a bystander holds
  // at most its links to the orchestrator and to the consumer of its value. (Links may already
  // have closed on a slow machine: open counts only go down with time.)
  expect((await links(pages[0] as Page, ids[0] as string))?.opened).toBeGreaterThanOrEqual(11);
  expect((await links(pages[7] as Page, ids[7] as string))?.open).toBeLessThanOrEqual(2);

  // Idle: every link closes, nobody leaves.
  const left: string[] = [];
  await pages[0]?.evaluate((id) => {
    window.harness.nodes.get(id)?.on('peer:leave', (p) => {
      (window as unknown as { left: string[] }).left ??= [];
      (window as unknown as { left: string[] }).left.push(p.id);
    });
  }, ids[0] as string);
  await expect
    .poll(
      async () =>
        Math.max(
          ...(await Promise.all(pages.map((p, i) => links(p, ids[i] as string)))).map(
            (l) => l?.open ?? 99,
          ),
        ),
      { timeout: 30_000 },
    )
    .toBe(0);
  left.push(
    ...((await pages[0]?.evaluate(() => (window as unknown as { left?: string[] }).left)) ?? []),
  );
  expect(left).toEqual([]);
  for (const [i, page] of pages.entries())
    expect(
      await page.evaluate((id) => window.harness.nodes.get(id)?.peers().length, ids[i] as string),
    ).toBe(11);

  // A second run, from another tab, opens what it needs again and is right.
  expect(await acrossAll(pages[3] as Page, ids[3] as string, ids, 7)).toBe(sum(7));
  const made = await Promise.all(pages.map((p, i) => links(p, ids[i] as string)));
  test.info().annotations.push({
    type: 'RTCPeerConnections made per tab',
    description: made.map((l) => l?.peerConnections).join(', '),
  });
  // Two runs and one idle period: a handful of connections each, far from Chromium's ~500.
  for (const l of made) expect(l?.peerConnections).toBeLessThanOrEqual(2 * 11 + 4);
});
