import { run } from '../room.ts';
import { expect, firefoxTab, join, test } from './fixtures.ts';
import { peersOf } from './helpers.ts';

// A Firefox tab behind another one is hidden (`visibilityState`), and Firefox holds its timers
// to one a second, as Chromium does for its first five minutes hidden (Firefox 140 has no later,
// harsher stage; measured over 70 s, BENCHMARKS.md). Heartbeats go once a second and a peer is
// given up after 3.5 s of silence, so a hidden Firefox tab stays in the room and works.

test('a Firefox tab behind another stays in the room and runs its tasks while hidden', async ({
  firefoxContext,
  firefoxPage,
}) => {
  const oneWindow = await firefoxContext();
  const back = firefoxTab(await firefoxPage(oneWindow), 'fxh-back');
  // Counts how late a 100 ms timer fires in the tab once it is hidden.
  await back.page.evaluate(() => {
    const w = globalThis as unknown as { gaps: number[] };
    w.gaps = [];
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (document.visibilityState === 'hidden') w.gaps.push(now - last);
      last = now;
    }, 100);
  });
  const front = firefoxTab(await firefoxPage(oneWindow), 'fxh-front');
  await front.tab.bringToFront();
  await join('fx-hidden', [back, front]);
  expect(await back.page.evaluate(() => document.visibilityState)).toBe('hidden');
  expect(await front.page.evaluate(() => document.visibilityState)).toBe('visible');

  // Hidden long enough for several throttled heartbeats (3.5 s of silence would be a leave).
  const gaps = () =>
    back.page.evaluate(() => (globalThis as unknown as { gaps: number[] }).gaps.slice(1));
  await expect.poll(async () => (await gaps()).length, { timeout: 30_000 }).toBeGreaterThan(8);
  const seen = (await gaps()).sort((a, b) => a - b);
  expect(seen[seen.length >> 1]).toBeGreaterThan(900); // timers held to one a second
  expect(await peersOf(front)).toEqual([back.id]);
  for (const seed of [2, 3]) {
    const { results, allocations } = await run(front, `fx-hidden-${seed}`, [
      { id: 'x', fn: 'identity', extraArgs: [seed], node: back.id },
      { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [10], node: front.id },
      { id: 'z', fn: 'multiply', args: ['y'], extraArgs: [2], node: back.id },
    ]);
    expect(results).toEqual({ x: seed, y: seed * 10, z: seed * 20 });
    expect(allocations).toEqual({ x: back.id, y: front.id, z: back.id });
  }
  expect(await peersOf(back)).toEqual([front.id]);
});
