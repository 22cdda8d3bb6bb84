// Pipelines across real tabs (three browsers and a second tab of the first, one room): stages
// pinned across tabs with an init counted per tab, 1,000 items in push order with an error item
// among them; backpressure, batching and stop on break; a stage's tab closed mid-stream.
import { expect, test } from './fixtures.ts';
import { room, type Tab } from './room.ts';

const inits = (tab: Tab) => tab.page.evaluate(() => window.harness.streamCounts.inits);
const hosted = (tab: Tab) =>
  tab.page.evaluate(
    (id) =>
      (
        window.harness.nodes.get(id) as unknown as {
          cluster: { streams: { hosted(): Record<string, string[]> } };
        }
      ).cluster.streams.hosted(),
    tab.id,
  );

test.describe('pipelines across tabs', () => {
  test('a 3-stage pipeline pinned across 3 tabs: init once per tab, 1,000 items in push order, one error item', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'stream-pinned');
    const [A, B, C, D] = tabs as [Tab, Tab, Tab, Tab];
    const out = await A.page.evaluate(
      async ({ id, b, c, d }) => {
        const node = window.harness.nodes.get(id);
        if (node === undefined) throw new Error('no node');
        const dag = new window.harness.Dag()
          .add({ id: 'in', input: true })
          .add({ id: 'a', fn: 'streamLookup', args: ['in'], init: 'streamInit', node: b })
          .add({ id: 'b', fn: 'streamDouble', args: ['a'], init: 'streamInit', node: c })
          .add({ id: 'c', fn: 'streamTag', args: ['b'], init: 'streamInit', node: d });
        const pipeline = node.stream(dag);
        const items: unknown[] = [];
        const reading = (async () => {
          for await (const item of pipeline) {
            items.push(
              item.error === undefined
                ? { id: item.id, value: item.value }
                : { id: item.id, error: item.error.name, message: item.error.message },
            );
            if (items.length === 1000) break;
          }
        })();
        for (let i = 0; i < 1000; i++) await pipeline.push(i);
        await reading;
        return { items, stats: pipeline.stats() };
      },
      { id: A.id, b: B.id, c: C.id, d: D.id },
    );
    const expected = Array.from({ length: 1000 }, (_, i) =>
      i === 500
        ? { id: i, error: 'TaskFailedError', message: expect.stringContaining('item 500 fails') }
        : { id: i, value: { x: (i + 1000) * 2, at: D.id } },
    );
    expect(out.items).toEqual(expected);
    expect(out.stats).toMatchObject({ state: 'stopped', pushed: 1000, done: 999, failed: 1 });
    expect(await Promise.all(tabs.map(inits))).toEqual([0, 1, 1, 1]);
    // Items stay in memory: no tab's IndexedDB holds anything of the pipeline's DAG.
    const stored = (tab: Tab) =>
      tab.page.evaluate((id) => window.harness.nodes.get(id)?.dags(), tab.id);
    expect(await Promise.all(tabs.map(stored))).toEqual([[], [], [], []]);
    // The break stopped it: no tab hosts a stage of it any more.
    await expect.poll(() => Promise.all([B, C, D].map(hosted))).toEqual([{}, {}, {}]);
  });

  test('push waits at maxInFlight, a batching stage gets arrays, a for await that breaks stops it', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'stream-pressure');
    const [A, B, C] = tabs as [Tab, Tab, Tab];
    // Started in A and kept on window, so the test can act between its steps.
    await A.page.evaluate(
      async ({ id, b, c }) => {
        const node = window.harness.nodes.get(id);
        if (node === undefined) throw new Error('no node');
        const dag = new window.harness.Dag()
          .add({ id: 'in', input: true })
          .add({ id: 'h', fn: 'streamHeld', args: ['in'], node: b, parallelism: 64 })
          .add({
            id: 't',
            fn: 'streamBatch',
            args: ['h'],
            node: c,
            batchSize: 16,
            batchTimeout: 20,
          });
        const pipeline = node.stream(dag, { maxInFlight: 8 });
        await pipeline.ready;
        for (let i = 0; i < 8; i++) await pipeline.push(i);
        const w = window as unknown as Record<string, unknown>;
        w.pipeline = pipeline;
        w.ninth = { admitted: false };
        void pipeline.push(8).then(() => {
          (w.ninth as { admitted: boolean }).admitted = true;
        });
      },
      { id: A.id, b: B.id, c: C.id },
    );
    const state = () =>
      A.page.evaluate(() => {
        const w = window as unknown as {
          pipeline: import('../../src/index.ts').Pipeline;
          ninth: { admitted: boolean };
        };
        return { admitted: w.ninth.admitted, stats: w.pipeline.stats() };
      });
    await expect.poll(async () => (await state()).stats.stages.h?.inFlight).toBe(8);
    // Nothing can finish while B's gate is shut: the ninth push is still waiting.
    await A.page.waitForTimeout(300);
    expect(await state()).toMatchObject({ admitted: false, stats: { inFlight: 8, pushed: 8 } });
    await B.page.evaluate(() => window.harness.openStreamGate());
    await expect.poll(async () => (await state()).admitted).toBe(true);
    const read = await A.page.evaluate(async () => {
      const pipeline = (window as unknown as { pipeline: import('../../src/index.ts').Pipeline })
        .pipeline;
      const pushing = (async () => {
        for (let i = 9; i < 64; i++) await pipeline.push(i).catch(() => undefined);
      })();
      const values: unknown[] = [];
      for await (const item of pipeline) {
        values.push(item.value);
        if (values.length === 40) break;
      }
      await pushing;
      return { values, state: pipeline.stats().state };
    });
    expect(read).toEqual({ values: Array.from({ length: 40 }, (_, i) => i + 1), state: 'stopped' });
    const batches = await C.page.evaluate(() => window.harness.streamCounts.batches);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(16);
    await expect.poll(() => Promise.all([B, C].map(hosted))).toEqual([{}, {}]);
  });

  test("closing a stage's tab mid-stream: its stage moves, every item comes out once, in order", async ({
    harnessPage,
  }) => {
    test.setTimeout(120_000);
    const tabs = await room(harnessPage, 'stream-loss');
    const [A, B, C] = tabs as [Tab, Tab, Tab];
    const reading = A.page.evaluate(
      async ({ id, b, c }) => {
        const node = window.harness.nodes.get(id);
        if (node === undefined) throw new Error('no node');
        const dag = new window.harness.Dag()
          .add({ id: 'in', input: true })
          .add({ id: 'a', fn: 'streamLookup', args: ['in'], init: 'streamInit' })
          .add({ id: 'c', fn: 'streamTag', args: ['a'] });
        // Stage a on C while C is in the room, else on B; stage c here.
        const pipeline = node.stream(dag, {
          maxInFlight: 16,
          allocation: (stages, peers) =>
            Object.fromEntries(
              stages.map((s) => [s.id, s.id === 'c' ? id : peers.some((p) => p.id === c) ? c : b]),
            ),
        });
        (window as unknown as Record<string, unknown>).pipeline = pipeline;
        let cLeft = false;
        node.on('peer:leave', (p) => {
          if (p.id === c) cLeft = true;
        });
        // Items go in until C has left and 300 more went in after that, so some run on B.
        let pushed = 0;
        let after = 0;
        const pushing = (async () => {
          while (!cLeft || after++ < 300) await pipeline.push(pushed++);
        })();
        const items: { id: number; x: number | undefined; error: string | undefined }[] = [];
        for await (const item of pipeline) {
          items.push({
            id: item.id,
            x: (item.value as { x: number } | undefined)?.x,
            error: item.error?.message,
          });
          if (cLeft && after > 300 && items.length === pushed) break;
        }
        await pushing;
        return items;
      },
      { id: A.id, b: B.id, c: C.id },
    );
    const done = () =>
      A.page.evaluate(
        () =>
          (
            window as unknown as { pipeline?: import('../../src/index.ts').Pipeline }
          ).pipeline?.stats().done ?? 0,
      );
    await expect.poll(done, { timeout: 30_000 }).toBeGreaterThan(50);
    await C.page.close();
    const items = await reading;
    expect(items.length).toBeGreaterThan(350);
    expect(items).toEqual(
      Array.from({ length: items.length }, (_, i) => ({ id: i, x: i + 1000, error: undefined })),
    );
    expect(await inits(B)).toBe(1); // the stage's init ran again where it went
  });
  test('the orchestrating tab closing stops its stages on every other tab', async ({
    harnessPage,
  }) => {
    const tabs = await room(harnessPage, 'stream-orphan');
    const [A, B, C] = tabs as [Tab, Tab, Tab];
    await A.page.evaluate(
      async ({ id, b, c }) => {
        const node = window.harness.nodes.get(id);
        if (node === undefined) throw new Error('no node');
        const dag = new window.harness.Dag()
          .add({ id: 'in', input: true })
          .add({ id: 'a', fn: 'streamLookup', args: ['in'], init: 'streamInit', node: b })
          .add({ id: 'c', fn: 'streamTag', args: ['a'], node: c });
        const pipeline = node.stream(dag);
        await pipeline.ready;
        (window as unknown as Record<string, unknown>).kept = pipeline;
      },
      { id: A.id, b: B.id, c: C.id },
    );
    expect(Object.values(await hosted(B))).toEqual([['a']]);
    expect(Object.values(await hosted(C))).toEqual([['c']]);
    await A.page.close();
    await expect.poll(() => Promise.all([B, C].map(hosted)), { timeout: 20_000 }).toEqual([{}, {}]);
  });
});
