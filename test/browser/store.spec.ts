import { expect, test } from './fixtures.ts';

test.describe('one node with the IndexedDB store, in real Chromium', () => {
  test('keeps every result under [dagId, taskId] in its own database, DAGs side by side', async ({
    harnessPage,
  }) => {
    const page = await harnessPage();
    const run = await page.evaluate(async () => {
      const { harness } = window;
      const node = await harness.node({ id: 'node-a' });
      const first = await node.execute(harness.exampleDag(undefined, 21));
      const second = await node.execute(harness.exampleDag(undefined, 5));
      return { nodeId: node.id, storeName: node.store.name, first, second };
    });
    expect(run.storeName).toBe('indexeddb:handout-node-a');
    expect(run.first.results).toEqual({ src: 21, dbl: 42, out: 'value: 42' });
    expect(run.second.results).toEqual({ src: 5, dbl: 10, out: 'value: 10' });
    expect(run.first.dagId).not.toBe(run.second.dagId);

    // Read the database ourselves, without the library.
    const raw = await page.evaluate(() => window.harness.rawResults('handout-node-a'));
    const byKey = new Map(raw.map(([key, value]) => [JSON.stringify(key), value]));
    for (const { dagId, results } of [run.first, run.second]) {
      for (const [taskId, value] of Object.entries(results)) {
        expect(byKey.get(JSON.stringify([dagId, taskId]))).toEqual(value);
      }
    }
    expect(raw).toHaveLength(6);

    // Clearing one DAG leaves the other intact, in the database itself.
    const after = await page.evaluate(async (dagId) => {
      const node = window.harness.nodes.get('node-a');
      await node?.clear(dagId);
      return window.harness.rawResults('handout-node-a');
    }, run.first.dagId);
    expect(after.map(([key]) => key)).toEqual(
      ['dbl', 'out', 'src'].map((taskId) => [run.second.dagId, taskId]),
    );
  });

  test('two nodes in one context (shared origin storage) keep separate databases', async ({
    harnessPage,
    browser,
  }) => {
    const context = await browser.newContext();
    const [p1, p2] = [await harnessPage(context), await harnessPage(context)];
    const dagOf = (page: typeof p1, id: string, seed: number) =>
      page.evaluate(
        async ({ id, seed }) => {
          const node = await window.harness.node({ id });
          return (await node.execute(window.harness.exampleDag(undefined, seed))).dagId;
        },
        { id, seed },
      );
    const d1 = await dagOf(p1, 'tab-1', 1);
    const d2 = await dagOf(p2, 'tab-2', 2);

    // Same origin: both pages see both databases...
    expect(await p1.evaluate(() => window.harness.databases())).toEqual(
      expect.arrayContaining(['handout-tab-1', 'handout-tab-2']),
    );
    // ...but each node's database holds only its own DAG.
    const keysOf = (db: string) =>
      p1.evaluate((name) => window.harness.rawResults(name).then((r) => r.map(([k]) => k)), db);
    expect(new Set((await keysOf('handout-tab-1')).map((k) => (k as string[])[0]))).toEqual(
      new Set([d1]),
    );
    expect(new Set((await keysOf('handout-tab-2')).map((k) => (k as string[])[0]))).toEqual(
      new Set([d2]),
    );
    // A node asked for another node's DAG does not know it.
    const code = await p2.evaluate(
      (dagId) =>
        window.harness.nodes
          .get('tab-2')
          ?.result(dagId, 'dbl')
          .then(
            () => 'found',
            (e: { code: string }) => e.code,
          ),
      d1,
    );
    expect(code).toBe('unknown_dag');
    await context.close();
  });

  test('separate contexts do not share storage', async ({ harnessPage }) => {
    const a = await harnessPage();
    const b = await harnessPage();
    await a.evaluate(async () => {
      const node = await window.harness.node({ id: 'ctx-a' });
      await node.execute(window.harness.exampleDag('shared-id', 1));
    });
    expect(await a.evaluate(() => window.harness.databases())).toContain('handout-ctx-a');
    expect(await b.evaluate(() => window.harness.databases())).not.toContain('handout-ctx-a');
  });

  test('results survive a reload and are read back by a node with the same id', async ({
    harnessPage,
  }) => {
    const page = await harnessPage();
    const dagId = await page.evaluate(async () => {
      const node = await window.harness.node({ id: 'reloaded' });
      return (await node.execute(window.harness.exampleDag(undefined, 8))).dagId;
    });
    await page.reload();
    await expect(page.locator('#status')).toHaveText('ready');
    const after = await page.evaluate(async (dagId) => {
      const node = await window.harness.node({ id: 'reloaded' });
      return { dbl: await node.result(dagId, 'dbl'), dags: await node.dags() };
    }, dagId);
    expect(after).toEqual({ dbl: 16, dags: [dagId] });
  });

  test('a result IndexedDB cannot store fails the run with StorageError naming DAG and item', async ({
    harnessPage,
  }) => {
    const page = await harnessPage();
    const outcome = await page.evaluate(async () => {
      const { harness } = window;
      const node = await harness.node({ id: 'clone-fail' });
      const dag = new harness.Dag('bad-dag')
        .add({ id: 'ok', fn: 'identity', extraArgs: [1] })
        .add({ id: 'fn', fn: 'makeFunction' });
      try {
        await node.execute(dag);
        return { rejected: false };
      } catch (error) {
        const e = error as InstanceType<typeof harness.StorageError>;
        return {
          rejected: true,
          isStorageError: e instanceof harness.StorageError,
          code: e.code,
          dagId: e.dagId,
          dataId: e.dataId,
          message: e.message,
          stored: await node.store.keys('bad-dag'),
        };
      }
    });
    expect(outcome).toMatchObject({
      rejected: true,
      isStorageError: true,
      code: 'storage',
      dagId: 'bad-dag',
      dataId: 'fn',
    });
    expect((outcome as { message: string }).message).toContain('DataCloneError');
    expect((outcome as { stored: string[] }).stored).not.toContain('fn');
  });

  test('large binary results round-trip through IndexedDB intact', async ({ harnessPage }) => {
    const page = await harnessPage();
    const check = await page.evaluate(async () => {
      const node = await window.harness.node({ id: 'bytes' });
      const dag = new window.harness.Dag().add({ id: 'b', fn: 'bytes', extraArgs: [4 << 20] });
      await node.execute(dag);
      const stored = (await node.result(dag.id, 'b')) as Uint8Array;
      let ok = stored instanceof Uint8Array && stored.length === 4 << 20;
      for (let i = 0; ok && i < stored.length; i += 4093) ok = stored[i] === i % 251;
      return ok;
    });
    expect(check).toBe(true);
  });
});
