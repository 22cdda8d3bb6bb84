import type { Page } from '@playwright/test';
import type { TaskSpec } from '../../src/index.ts';
import { expect, test } from './fixtures.ts';
import { coordinator, result, room, type Tab } from './room.ts';

/** Submits a DAG on a tab; the run's outcome is read later with `outcome`. */
function submit(tab: Tab, dagId: string, tasks: TaskSpec[], options = {}) {
  return tab.page.evaluate(
    ({ id, dagId, tasks, options }) => window.harness.submit(id, dagId, tasks, options),
    { id: tab.id, dagId, tasks, options },
  );
}

function outcome(tab: Tab, dagId: string) {
  return tab.page.evaluate((dagId) => window.harness.runs.get(dagId)?.outcome, dagId);
}

function status(tab: Tab, dagId: string) {
  return tab.page.evaluate((dagId) => window.harness.runs.get(dagId)?.handle.status(), dagId);
}

const load = (tab: Tab) =>
  tab.page.evaluate((id) => window.harness.nodes.get(id)?.load().tasks, tab.id);

/** Item ids a tab's IndexedDB holds for one DAG, read with the raw API. */
const stored = (tab: Tab, dagId: string) =>
  tab.page.evaluate(
    ({ id, dagId }) =>
      window.harness.rawResults(`handout-${id}`).then((rows) =>
        rows
          .map(([key]) => key as string[])
          .filter(([dag]) => dag === dagId)
          .map(([, item]) => item)
          .sort(),
      ),
    { id: tab.id, dagId },
  );

test.describe('resilience across real tabs', () => {
  test('closing the tab that holds intermediate results mid-run: the run still finishes right', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'close');
    const [A] = tabs as [Tab];
    const tasks: TaskSpec[] = [{ id: 'gate', fn: 'held', extraArgs: [0, 'go'], node: A.id }];
    for (let i = 0; i < 12; i++) {
      tasks.push({ id: `p${i}`, fn: 'bytes', extraArgs: [1000 + i], cost: { cpu: 1 } });
      tasks.push({ id: `c${i}`, fn: 'length', args: [`p${i}`, 'gate'], cost: { cpu: 1 } });
    }
    tasks.push({ id: 'sum', fn: 'add', args: Array.from({ length: 12 }, (_, i) => `c${i}`) });
    await submit(A, 'close-dag', tasks, { collect: 'sinks' });
    // Every producer is done; their consumers wait for the gate.
    await expect
      .poll(async () => {
        const s = await status(A, 'close-dag');
        return Object.entries(s?.tasks ?? {}).filter(
          ([id, t]) => id.startsWith('p') && t.state === 'done',
        ).length;
      })
      .toBe(12);
    const s = await status(A, 'close-dag');
    const holders = new Set(
      Object.entries(s?.tasks ?? {})
        .filter(([id]) => id.startsWith('p'))
        .map(([, t]) => t.peer),
    );
    const victim = tabs.find((t) => t !== A && holders.has(t.id)) as Tab;
    expect(victim).toBeDefined();
    await victim.page.close();
    // The consumers start once the orchestrator knows the tab is gone. Started sooner, a
    // consumer can still get a result from the closing tab before its links go down (seen once
    // in CI: the sum right, one producer left allocated to the closed tab): right, but then that
    // producer is not made again, which is what this test checks.
    await expect
      .poll(() =>
        A.page.evaluate(
          (id) =>
            window.harness.nodes
              .get(id)
              ?.peers()
              .map((p) => p.id) ?? [],
          A.id,
        ),
      )
      .not.toContain(victim.id);
    await A.page.evaluate(() => window.harness.open('go'));
    const out = await outcome(A, 'close-dag');
    const expected = Array.from({ length: 12 }, (_, i) => 1000 + i).reduce((a, b) => a + b, 0);
    expect(out).toMatchObject({ ok: true, results: { sum: expected } });
    const allocations = (out as { allocations: Record<string, string> }).allocations;
    expect(Object.values(allocations)).not.toContain(victim.id);
  });

  test('a task that always throws fails the run with a TaskFailedError naming it', async ({
    harnessPage,
  }) => {
    const [A, B] = (await room(harnessPage, 'throws')) as [Tab, Tab];
    await submit(
      A,
      'throw-dag',
      [
        { id: 'bad', fn: 'fail', node: B.id },
        { id: 'after', fn: 'identity', args: ['bad'] },
      ],
      { maxRetries: 2 },
    );
    const out = await outcome(A, 'throw-dag');
    expect(out).toMatchObject({
      ok: false,
      name: 'TaskFailedError',
      code: 'task_failed',
      taskId: 'bad',
      node: B.id,
      attempts: 3,
    });
    expect((out as { message: string }).message).toContain(`always fails (bad on ${B.id})`);
    // Its dependent never ran (it may have been sent ahead to wait on B, but never started).
    expect(['waiting', 'placed']).toContain((await status(A, 'throw-dag'))?.tasks.after?.state);
  });

  test('cancelling a long run: its tabs go idle and no late result is stored', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'cancel');
    const [A] = tabs as [Tab];
    const tasks: TaskSpec[] = Array.from({ length: 40 }, (_, i) => ({
      id: `t${i}`,
      fn: 'held',
      extraArgs: [i, 'never-before-cancel'],
      cost: { cpu: 1 },
    }));
    await submit(A, 'cancel-dag', tasks);
    await expect
      .poll(async () => (await Promise.all(tabs.map(load))).every((n) => (n ?? 0) > 0))
      .toBe(true);
    await A.page.evaluate(() => window.harness.runs.get('cancel-dag')?.handle.cancel('stop'));
    expect(await outcome(A, 'cancel-dag')).toMatchObject({ ok: false, name: 'CancelledError' });
    await expect.poll(() => Promise.all(tabs.map(load))).toEqual([0, 0, 0, 0]);
    // The cancelled functions return only now: what they return must be thrown away.
    const started = await Promise.all(
      tabs.map((t) => t.page.evaluate(() => window.harness.counts.started)),
    );
    for (const tab of tabs)
      await tab.page.evaluate(() => window.harness.open('never-before-cancel'));
    for (const [i, tab] of tabs.entries()) {
      await expect
        .poll(() => tab.page.evaluate(() => window.harness.counts.returned))
        .toBe(started[i]);
      expect(await stored(tab, 'cancel-dag')).toEqual([]);
    }
    expect(started.reduce((a, b) => a + b, 0)).toBeLessThan(40);
  });

  test('reloaded tabs come back with their ids and data: results are found from any tab', async ({
    harnessPage,
  }) => {
    const [A, B, C] = (await room(harnessPage, 'reload')) as [Tab, Tab, Tab];
    await submit(A, 'reload-dag', [
      { id: 'x', fn: 'bytes', extraArgs: [5000], node: B.id },
      { id: 'y', fn: 'sumBytes', args: ['x'], node: B.id },
    ]);
    const out = (await outcome(A, 'reload-dag')) as { results: Record<string, unknown> };
    const rejoin = async (page: Page, id: string) => {
      await page.reload();
      await expect(page.locator('#status')).toHaveText('ready');
      await page.evaluate(
        ({ c, id }) =>
          window.harness.node({ coordinator: c, room: 'reload' }).then((n) => {
            if (n.id !== id) throw new Error(`came back as ${n.id}, not ${id}`);
          }),
        { c: coordinator(), id },
      );
      await page.evaluate((id) => window.harness.waitForPeers(id, 3), id);
    };
    // B, the worker holding the results, reloads: C fetches them from it afterwards.
    await rejoin(B.page, B.id);
    expect(await result(C, 'reload-dag', 'y')).toEqual({ ok: true, value: out.results.y });
    expect(await result(C, 'reload-dag', 'x')).toMatchObject({ ok: true });
    // A, the orchestrator, reloads: it still finds the run's results in the room.
    await rejoin(A.page, A.id);
    expect(await result(A, 'reload-dag', 'y')).toEqual({ ok: true, value: out.results.y });
  });

  test('200 small DAGs at once across 4 tabs all complete correctly', async ({ harnessPage }) => {
    const tabs = await room(harnessPage, 'load200');
    const outcomes = await Promise.all(
      tabs.map((tab, t) =>
        tab.page.evaluate(
          ({ id, t }) => {
            const node = window.harness.nodes.get(id);
            if (node === undefined) throw new Error('no node');
            return Promise.all(
              Array.from({ length: 50 }, (_, i) => {
                const seed = t * 1000 + i;
                const dag = new window.harness.Dag(`load-${seed}`)
                  .add({ id: 'src', fn: 'identity', extraArgs: [seed] })
                  .add({ id: 'a', fn: 'multiply', args: ['src'], extraArgs: [2] })
                  .add({ id: 'b', fn: 'multiply', args: ['src'], extraArgs: [3] })
                  .add({ id: 'sum', fn: 'add', args: ['a', 'b'] });
                return node.execute(dag).then((r) => [seed, r.results.sum]);
              }),
            );
          },
          { id: tab.id, t },
        ),
      ),
    );
    const all = outcomes.flat();
    expect(all).toHaveLength(200);
    for (const [seed, sum] of all) expect(sum).toBe(5 * (seed as number));
  });
});

test('a rogue page sending garbage into the room does not stop two honest DAGs', async ({
  harnessPage,
}) => {
  const tabs = await room(harnessPage, 'rogue');
  const [A, B] = tabs as [Tab, Tab];
  const rogue = await harnessPage();
  const rogueId = await rogue.evaluate(
    (c) => window.harness.transport({ coordinator: c, room: 'rogue', id: 'rogue-R' }),
    coordinator(),
  );
  await rogue.evaluate((id) => window.harness.waitForPeers(id, 4), rogueId);
  const drops = tabs.map((tab) =>
    tab.page.evaluate((id) => {
      const seen = { count: 0 };
      window.harness.nodes.get(id)?.on('dropped', () => seen.count++);
      (window as unknown as { seen: typeof seen }).seen = seen;
    }, tab.id),
  );
  await Promise.all(drops);
  const chain = (seed: number, on: Tab[]): TaskSpec[] =>
    Array.from({ length: 20 }, (_, i) => ({
      id: `t${i}`,
      // Each chain starts held on its first tab until the spam is over.
      fn: i === 0 ? 'held' : 'add',
      args: i === 0 ? [] : [`t${i - 1}`],
      extraArgs: i === 0 ? [seed, 'spammed'] : [1],
      node: (on[i % on.length] as Tab).id,
    }));
  await submit(A, 'honest-1', chain(100, tabs));
  await submit(B, 'honest-2', chain(500, [...tabs].reverse()));
  const spam = await rogue.evaluate((id) => window.harness.spam(id, 3), rogueId);
  expect(spam.sent).toBeGreaterThan(0);
  expect(spam.answers).toEqual(Array(12).fill('unknown_dag'));
  for (const tab of [A, tabs[3] as Tab])
    await tab.page.evaluate(() => window.harness.open('spammed'));
  expect(await outcome(A, 'honest-1')).toMatchObject({ ok: true, results: { t19: 119 } });
  expect(await outcome(B, 'honest-2')).toMatchObject({ ok: true, results: { t19: 519 } });
  for (const tab of tabs) {
    const seen = await tab.page.evaluate(
      () => (window as unknown as { seen: { count: number } }).seen.count,
    );
    expect(seen).toBeGreaterThanOrEqual(spam.sent / 4);
  }
});
