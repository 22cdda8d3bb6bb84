import { expect, test } from './fixtures.ts';
import { result, room, run, type Tab } from './room.ts';

test.describe('one dagId, one truth across the room', () => {
  test('re-running a named DAG gives the new values in every tab: results, stores, result()', async ({
    harnessPage,
  }) => {
    const [A, B, C, D] = (await room(harnessPage, 'rerun')) as [Tab, Tab, Tab, Tab];
    const first = await run(A, 'daily', [
      { id: 'x', fn: 'identity', extraArgs: [1], node: B.id },
      { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [10], node: C.id },
    ]);
    expect(first.results).toEqual({ x: 1, y: 10 });
    const second = await run(A, 'daily', [
      { id: 'x', fn: 'identity', extraArgs: [2], node: A.id },
      { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [10], node: C.id },
    ]);
    expect(second.results).toEqual({ x: 2, y: 20 });
    for (const tab of [A, B, C, D]) {
      expect(await result(tab, 'daily', 'x')).toEqual({ ok: true, value: 2 });
      expect(await result(tab, 'daily', 'y')).toEqual({ ok: true, value: 20 });
    }
    // What each tab keeps in its own IndexedDB: nothing of the first run anywhere.
    for (const tab of [A, B, C, D]) {
      const kept = await tab.page.evaluate(
        (id) => window.harness.rawResults(`handout-${id}`),
        tab.id,
      );
      const daily = kept.filter(([key]) => Array.isArray(key) && key[0] === 'daily');
      for (const [key, value] of daily) {
        const [, item] = key as [string, string];
        expect(value, `${tab.id} keeps ${item}`).toBe(item === 'x' ? 2 : 20);
      }
    }
  });

  test('a clear from a tab that does not orchestrate the run is refused, and the run finishes', async ({
    harnessPage,
  }) => {
    const [A, B, C] = (await room(harnessPage, 'authority')) as [Tab, Tab, Tab, Tab];
    const dagId = await A.page.evaluate(
      ({ a, b, c }) =>
        window.harness.submit(a, 'guarded', [
          { id: 'p', fn: 'slow', extraArgs: [3, 2500], node: b },
          { id: 'q', fn: 'slow', extraArgs: [4, 2500], node: c },
          { id: 'r', fn: 'add', args: ['p', 'q'], node: b },
        ]),
      { a: A.id, b: B.id, c: C.id },
    );
    const refused = await B.page.evaluate(
      ({ b, id }) =>
        window.harness.nodes
          .get(b)
          ?.clear(id)
          .then(
            () => 'cleared',
            (e: { name: string }) => e.name,
          ),
      { b: B.id, id: dagId },
    );
    expect(refused).toBe('DagRunningError');
    const outcome = await A.page.evaluate((id) => window.harness.runs.get(id)?.outcome, dagId);
    expect(outcome).toMatchObject({ ok: true, results: { p: 3, q: 4, r: 7 } });
    // Over now: B may clear it, everywhere.
    await B.page.evaluate(({ b, id }) => window.harness.nodes.get(b)?.clear(id), {
      b: B.id,
      id: dagId,
    });
    expect(await result(C, dagId, 'q')).toMatchObject({ ok: false, code: 'unknown_dag' });
  });
});
