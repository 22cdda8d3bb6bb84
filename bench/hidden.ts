// Hidden tabs, measured in one real window (headful Chromium under Xvfb, no Playwright): each
// scenario on tabs in the background of the orchestrator's window, beside the same on tabs of
// windows of their own (visible); in a full run, again once the hidden tabs have been hidden
// for six minutes (Chrome's grace before intensive throttling is five; no flag that shortens
// it took effect in Chromium 156, so a quick run leaves that part out).
import { type RealTab, RealWindow } from '../test/browser/real-window.ts';
import { type BenchConfig, progress, repeat, round, type Scenario, summary } from './stats.ts';

/** Resolves once the bench page in the tab is ready. */
const ready = (tab: RealTab) =>
  tab.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const ok = () =>
          'hidden' in window && document.getElementById('status')?.textContent === 'ready';
        if (ok()) return resolve();
        new MutationObserver((_, o) => {
          if (!ok()) return;
          o.disconnect();
          resolve();
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      }),
    null,
  );

interface Figures {
  small: number[];
  hop: number[];
  rate: number[];
}

/** A row, measured against its visible twin when it has one. */
function row(
  name: string,
  unit: string,
  values: number[],
  note: string,
  twin?: { name: string; values: number[] },
): Scenario {
  const s = summary(name, unit, values);
  if (twin === undefined) return { ...s, anchor: null, ratio: null, note };
  const anchor = { name: twin.name, median: summary(twin.name, unit, twin.values).median };
  const target = unit === 'tasks/s' ? '>= 0.67 of visible' : '<= 1.5x visible';
  return { ...s, anchor, ratio: round(s.median / anchor.median), target, note };
}

export async function hiddenScenarios(
  pageUrl: string,
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const minutes = config.option('hidden-minutes', config.quick ? 0 : 6);
  const tasks = config.option('hidden-tasks', 2000);
  const length = config.option('hidden-chain', 100);
  const win = await RealWindow.launch();
  try {
    // Four windows side by side (a window another covers counts as hidden): the front tab's,
    // with its three background tabs, and three more, each with one visible tab.
    const front = await win.open(pageUrl);
    await front.place(0, 0, 780, 480);
    const hidden: RealTab[] = [];
    for (let i = 0; i < 3; i++) hidden.push(await win.open(pageUrl, { background: true }));
    const visible: RealTab[] = [];
    for (const [left, top] of [
      [800, 0],
      [0, 500],
      [800, 500],
    ] as const) {
      const tab = await win.open(pageUrl, { newWindow: true });
      await tab.place(left, top, 780, 480);
      visible.push(tab);
    }
    const all = [front, ...hidden, ...visible];
    await Promise.all(all.map(ready));
    const states = await Promise.all(
      all.map((t) => t.evaluate(() => document.visibilityState, null)),
    );
    const stamp = Date.now();
    const [rh, rv] = [`hidden-${stamp}`, `visible-${stamp}`];
    const join = (tab: RealTab, room: string) =>
      tab.evaluate(({ c, r }) => window.hidden.join(c, r), { c: coordinator, r: room });
    await join(front, rh);
    await join(front, rv);
    const h = await Promise.all(hidden.map((t) => join(t, rh)));
    const v = await Promise.all(visible.map((t) => join(t, rv)));
    await front.evaluate(
      ({ rh, rv }) => Promise.all([window.hidden.meet(rh, 3), window.hidden.meet(rv, 3)]),
      { rh, rv },
    );
    const measure = async (label: string, room: string, peers: string[]): Promise<Figures> => ({
      small: await repeat(config, `small DAG on ${label} tabs`, () =>
        front.evaluate(({ r, p }) => window.hidden.smallDag(r, p), {
          r: room,
          p: peers[0] as string,
        }),
      ),
      hop: await repeat(config, `chain on ${label} tabs`, () =>
        front.evaluate(({ r, n, p }) => window.hidden.chain(r, n, p), {
          r: room,
          n: length,
          p: peers.slice(0, 2),
        }),
      ),
      rate: await repeat(config, `dispatch over ${label} tabs`, () =>
        front.evaluate(({ r, n }) => window.hidden.dispatch(r, n), { r: room, n: tasks }),
      ),
    });
    const shown = await measure('visible', rv, v);
    const behind = await measure('hidden', rh, h);
    let late: Figures | undefined;
    if (minutes > 0) {
      progress(`hidden tabs: waiting ${minutes} min`);
      await new Promise((resolve) => setTimeout(resolve, minutes * 60_000));
      late = await measure('long-hidden', rh, h);
    }
    const lost = (
      await Promise.all(all.map((t) => t.evaluate(() => window.hidden.left.length, null)))
    ).reduce((a, b) => a + b, 0);
    const where = `tab states ${states.join(',')}; peers lost: ${lost}`;
    const rows = [
      row(
        'small-dag',
        'ms',
        shown.small,
        'one-task DAG pinned on a visible tab (a window of its own), from the front tab of a real window',
      ),
      row(
        'small-dag-hidden',
        'ms',
        behind.small,
        `the same, pinned on a background tab of the front tab's window; ${where}`,
        { name: 'small-dag', values: shown.small },
      ),
      row(
        'chain-hop-visible',
        'ms/hop',
        shown.hop,
        `${length} tasks pinned alternately on two visible tabs`,
      ),
      row('chain-hop-hidden', 'ms/hop', behind.hop, 'the same on two background tabs', {
        name: 'chain-hop-visible',
        values: shown.hop,
      }),
      row(
        'dispatch-visible',
        'tasks/s',
        shown.rate,
        `${tasks} trivial tasks over the front tab and 3 visible tabs`,
      ),
      row('dispatch-hidden', 'tasks/s', behind.rate, 'over the front tab and 3 background tabs', {
        name: 'dispatch-visible',
        values: shown.rate,
      }),
    ];
    if (late !== undefined) {
      const after = `after ${minutes} min hidden; peers lost: ${lost}`;
      rows.push(
        row('small-dag-hidden-late', 'ms', late.small, after, {
          name: 'small-dag',
          values: shown.small,
        }),
        row('chain-hop-hidden-late', 'ms/hop', late.hop, after, {
          name: 'chain-hop-visible',
          values: shown.hop,
        }),
        row('dispatch-hidden-late', 'tasks/s', late.rate, after, {
          name: 'dispatch-visible',
          values: shown.rate,
        }),
      );
    }
    return rows;
  } finally {
    await win.close();
  }
}
