// Hidden tabs as people have them: one real Chromium window (headful, under Xvfb, without
// Playwright's switches that keep pages visible and unthrottled), one tab in front and the
// others in the background. Runs DAGs across the hidden tabs, then again once they have been
// hidden past Chrome's grace period for intensive throttling (shortened to 10 s with
// `--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/10`; 5 minutes otherwise),
// and checks that no peer was ever declared gone.

import { expect, test } from '@playwright/test';
import { DEMO_PORT, HARNESS_PORT } from './ports.ts';
import { type RealTab, RealWindow } from './real-window.ts';
import { coordinator } from './room.ts';

const PAGE = `http://127.0.0.1:${HARNESS_PORT}/index.html`;
const DEMO = `http://127.0.0.1:${DEMO_PORT}/`;
const GRACE_S = 10;

/** Waits for the harness page to be ready, joins the room as `id`, and counts peers leaving. */
function join(tab: RealTab, id: string, room: string): Promise<string> {
  return tab.evaluate(
    async ({ c, r, id }) => {
      await new Promise<void>((resolve) => {
        const ready = () => document.getElementById('status')?.textContent === 'ready';
        if (ready()) return resolve();
        new MutationObserver((_, observer) => {
          if (!ready()) return;
          observer.disconnect();
          resolve();
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      const node = await window.harness.node({ coordinator: c, room: r, id });
      const left: string[] = [];
      node.on('peer:leave', (p) => left.push(`${p.id}: ${p.reason}`));
      (window as unknown as { left: string[] }).left = left;
      return document.visibilityState;
    },
    { c: coordinator(), r: room, id },
  );
}

const peersLeft = (tab: RealTab) =>
  tab.evaluate(() => (window as unknown as { left: string[] }).left, null);

/** Milliseconds a chain of `n` setTimeout(…, 5) takes in the tab: how its timers are throttled. */
const chainedTimers = (tab: RealTab, n: number) =>
  tab.evaluate(
    (n) =>
      new Promise<number>((resolve) => {
        const start = performance.now();
        let left = n;
        const step = () =>
          --left === 0 ? resolve(performance.now() - start) : setTimeout(step, 5);
        setTimeout(step, 5);
      }),
    n,
  );

test('DAGs across hidden tabs of one real window, orchestrated from the tab in front, also past the intensive-throttling grace', async () => {
  test.setTimeout(180_000);
  const win = await RealWindow.launch([
    `--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/${GRACE_S}`,
  ]);
  try {
    const front = await win.open(PAGE);
    const b = await win.open(PAGE, { background: true });
    const c = await win.open(PAGE, { background: true });
    const room = `hidden-${Date.now()}`;
    const seen = await Promise.all([
      join(front, 'front', room),
      join(b, 'back-b', room),
      join(c, 'back-c', room),
    ]);
    expect(seen).toEqual(['visible', 'hidden', 'hidden']);
    // The background tabs really are throttled: 3 chained 5 ms timers take about 3 s there.
    expect(await chainedTimers(b, 3)).toBeGreaterThan(1500);
    expect(await chainedTimers(front, 3)).toBeLessThan(1000);
    await front.evaluate(() => window.harness.waitForPeers('front', 2), null);

    const runOnce = (seed: number) =>
      front.evaluate(async (seed) => {
        const dag = new window.harness.Dag()
          .add({ id: 'p', fn: 'identity', extraArgs: [seed], node: 'back-b' })
          .add({ id: 'q', fn: 'multiply', args: ['p'], extraArgs: [2], node: 'back-c' })
          .add({ id: 'r', fn: 'add', args: ['p', 'q'], node: 'back-b' });
        const node = window.harness.nodes.get('front');
        return (await node?.execute(dag))?.results;
      }, seed);
    expect(await runOnce(5)).toEqual({ p: 5, q: 10, r: 15 });

    // Hidden past the grace period: Chrome now allows chained timers one wake-up a minute,
    // unless the tab is exempt (an open RTCDataChannel is one such exemption).
    await b.evaluate(
      (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      (GRACE_S + 10) * 1000,
    );
    const states = await Promise.all(
      [b, c].map((t) => t.evaluate(() => document.visibilityState, null)),
    );
    expect(states).toEqual(['hidden', 'hidden']);
    expect(await runOnce(7)).toEqual({ p: 7, q: 14, r: 21 });
    for (const tab of [front, b, c]) expect(await peersLeft(tab)).toEqual([]);

    // The demo says where it is, in front or behind.
    const demo = await win.open(
      `${DEMO}?coordinator=${encodeURIComponent(coordinator())}&room=${room}-demo`,
      {
        background: true,
      },
    );
    const said = await demo.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const read = () => document.getElementById('visibility')?.textContent ?? '';
          if (read().startsWith('this tab')) return resolve(read());
          new MutationObserver((_, observer) => {
            if (!read().startsWith('this tab')) return;
            observer.disconnect();
            resolve(read());
          }).observe(document.body, { subtree: true, childList: true, characterData: true });
        }),
      null,
    );
    expect(said).toBe('this tab is in the background');
  } finally {
    await win.close();
  }
});
