import { expect, test } from './fixtures.ts';
import { result, room, run, type Tab } from './room.ts';

test.describe('distributed execution across tabs', () => {
  test('concurrent DAGs with remote arguments, results from any tab, shared workers, typed errors', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'dist');
    const [A, B, C, D] = tabs as [Tab, Tab, Tab, Tab];
    // Two DAGs at once, from two tabs; each consumer needs an argument produced on another peer,
    // and both DAGs put a task on C.
    const one = [
      { id: 'src', fn: 'identity', extraArgs: [21], node: B.id },
      { id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2], node: C.id },
      { id: 'who', fn: 'tag', args: ['dbl'], node: D.id },
    ];
    const two = [
      { id: 'src', fn: 'identity', extraArgs: [5], node: D.id },
      { id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [3], node: C.id },
      { id: 'who', fn: 'tag', args: ['dbl'], node: A.id },
    ];
    const [r1, r2] = await Promise.all([run(A, 'dag-one', one), run(B, 'dag-two', two)]);
    expect(r1.results).toEqual({ src: 21, dbl: 42, who: { x: 42, on: D.id } });
    expect(r2.results).toEqual({ src: 5, dbl: 15, who: { x: 15, on: A.id } });
    expect(r1.allocations.dbl).toBe(C.id);
    expect(r2.allocations.dbl).toBe(C.id); // tasks of both DAGs ran on the same worker

    // Every result, by its dagId, from every tab.
    for (const tab of tabs) {
      for (const [dagId, expected] of [
        ['dag-one', r1.results],
        ['dag-two', r2.results],
      ] as const) {
        for (const [taskId, value] of Object.entries(expected)) {
          expect(await result(tab, dagId, taskId)).toEqual({ ok: true, value });
        }
      }
      expect(await result(tab, 'dag-nope', 'src')).toMatchObject({
        ok: false,
        code: 'unknown_dag',
        name: 'UnknownDagError',
      });
      expect(await result(tab, 'dag-one', 'nope')).toMatchObject({
        ok: false,
        code: 'data_not_found',
        name: 'DataNotFoundError',
      });
    }
  });

  test('20 instances of one definition submitted at once from two tabs all complete correctly', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'many');
    const [A, B] = tabs as [Tab, Tab];
    const definition = (seed: number) => [
      { id: 'src', fn: 'identity', extraArgs: [seed] },
      { id: 'a', fn: 'multiply', args: ['src'], extraArgs: [2] },
      { id: 'b', fn: 'multiply', args: ['src'], extraArgs: [3] },
      { id: 'sum', fn: 'add', args: ['a', 'b'] },
    ];
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run(i % 2 ? B : A, `inst-${i}`, definition(i))),
    );
    for (const [i, r] of runs.entries())
      expect(r.results).toEqual({ src: i, a: 2 * i, b: 3 * i, sum: 5 * i });
    const used = new Set(runs.flatMap((r) => Object.values(r.allocations)));
    expect(used.size).toBeGreaterThan(1);
  });

  test('a 10 MiB argument goes straight from producer B to consumer C, never through orchestrator A', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'direct');
    const [A, B, C, D] = tabs as [Tab, Tab, Tab, Tab];
    const traffic = (tab: Tab) =>
      tab.page.evaluate((id) => window.harness.nodes.get(id)?.traffic() ?? {}, tab.id);
    const before = await Promise.all(tabs.map(traffic));
    const size = 10 << 20;
    const { results } = await run(A, 'direct-dag', [
      { id: 'payload', fn: 'bytes', extraArgs: [size], node: B.id },
      { id: 'check', fn: 'sumBytes', args: ['payload'], node: C.id },
    ]);
    let expected = 0;
    for (let i = 0; i < size; i++) expected = (expected + (i % 251)) % 1_000_003;
    expect(results.check).toBe(expected);
    expect((results.payload as Uint8Array).length).toBe(size); // collected for the caller at the end

    const after = await Promise.all(tabs.map(traffic));
    const moved = (i: number, peer: string, way: 'sent' | 'received') =>
      (after[i]?.[peer]?.[way] ?? 0) - (before[i]?.[peer]?.[way] ?? 0);
    // B sent C the payload, and C received it from B.
    expect(moved(1, C.id, 'sent')).toBeGreaterThanOrEqual(size);
    expect(moved(2, B.id, 'received')).toBeGreaterThanOrEqual(size);
    // Before collection A handled only small messages with C: C never sent A the payload.
    expect(moved(2, A.id, 'sent')).toBeLessThan(size / 10);
    // D took no part.
    for (const peer of [A.id, B.id, C.id])
      expect(moved(3, peer, 'received')).toBeLessThan(size / 10);

    // Each tab's IndexedDB holds exactly what it produced or fetched for this DAG.
    const entries = (tab: Tab) =>
      tab.page.evaluate(
        (id) =>
          window.harness.rawResults(`handout-${id}`).then((rows) =>
            rows
              .map(([key]) => key as string[])
              .filter(([dag]) => dag === 'direct-dag')
              .map(([, item]) => item)
              .sort(),
          ),
        tab.id,
      );
    expect(await entries(A)).toEqual([]);
    expect(await entries(B)).toEqual(['payload']);
    expect(await entries(C)).toEqual(['check', 'payload']);
    expect(await entries(D)).toEqual([]);
  });
});

test('allocation across tabs: first-available, a custom allocator, and a wrong answer as a typed AllocationError', async ({
  harnessPage,
}) => {
  const [A, B, C, D] = (await room(harnessPage, 'alloc')) as [Tab, Tab, Tab, Tab];
  const outcome = await C.page.evaluate(async (self) => {
    const node = window.harness.nodes.get(self);
    if (node === undefined) throw new Error('no node');
    const fanOut = (dagId: string) => {
      const dag = new window.harness.Dag(dagId);
      for (let i = 0; i < 6; i++) dag.add({ id: `t${i}`, fn: 'nodeOf' });
      return dag;
    };
    const first = await node.execute(fanOut('alloc-first'), { allocation: 'first-available' });
    const seen: string[] = [];
    const mine = await node.execute(fanOut('alloc-mine'), {
      // Round-robin over the peers from the last id down, by task id.
      allocation: (tasks, peers) => {
        const ids = peers
          .map((p) => p.id)
          .sort()
          .reverse();
        seen.push(...ids);
        return Object.fromEntries(
          tasks.map((t) => [t.id, ids[Number(t.id.slice(1)) % ids.length]]),
        );
      },
    });
    const wrong = await node
      .execute(fanOut('alloc-wrong'), { allocation: () => ({ t0: 'nobody' }) })
      .then(
        () => undefined,
        (e: { name: string; code: string; message: string }) => `${e.name} ${e.code} ${e.message}`,
      );
    return { first, mine: mine.results, seen, wrong };
  }, C.id);
  // The first peer by id with room: every free task goes there, whoever orchestrates.
  expect(Object.values(outcome.first.allocations)).toEqual(Array(6).fill(A.id));
  expect(Object.values(outcome.first.results)).toEqual(Array(6).fill(A.id));
  expect(outcome.seen).toEqual([D.id, C.id, B.id, A.id]);
  expect(outcome.mine).toEqual({ t0: D.id, t1: C.id, t2: B.id, t3: A.id, t4: D.id, t5: C.id });
  expect(outcome.wrong).toMatch(
    /^AllocationError allocation cannot place task 't[1-5]': the allocator gave it no peer$/,
  );
});
