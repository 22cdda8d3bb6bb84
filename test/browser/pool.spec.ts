import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from './fixtures.ts';
import { coordinator } from './room.ts';
import { serveDirectory } from './static-server.ts';

test.describe('task functions in a pool of Web Workers', () => {
  test('run off the page’s thread: the page keeps ticking, results and context come back', async ({
    harnessPage,
  }) => {
    const page = await harnessPage();
    const out = await page.evaluate(async () => {
      const h = window.harness;
      const node = await h.poolNode({ store: 'memory' });
      const dag = new h.Dag().add({ id: 'w', fn: 'where', extraArgs: [1] });
      for (let i = 0; i < 4; i++) dag.add({ id: `s${i}`, fn: 'spin', extraArgs: [1000] });
      dag.add({ id: 'b', fn: 'bytes', extraArgs: [5_000_000] });
      dag.add({ id: 'sum', fn: 'sumBytes', args: ['b'] });
      const ticker = h.ticker(20);
      const started = performance.now();
      const { results } = await node.execute(dag, { collect: 'all' });
      const ms = performance.now() - started;
      ticker.stop();
      await node.close();
      return {
        where: results.w,
        spins: [0, 1, 2, 3].map((i) => results[`s${i}`]),
        bytes: (results.b as Uint8Array).length,
        sum: results.sum,
        ms,
        ticks: ticker.state.ticks,
        longestGap: ticker.state.longestGap,
        nodeId: node.id,
      };
    });
    expect(out.where).toMatchObject({ x: 1, inWorker: true, taskId: 'w', nodeId: out.nodeId });
    expect(out.spins).toEqual([1000, 1000, 1000, 1000]);
    expect(out.bytes).toBe(5_000_000);
    let expected = 0;
    for (let i = 0; i < 5_000_000; i++) expected = (expected + (i % 251)) % 1_000_003;
    expect(out.sum).toBe(expected);
    // 4 s of blocking work ran in two workers; on the page's thread any one task would have
    // held its 20 ms timer back a whole second.
    expect(out.ms).toBeGreaterThan(1900);
    expect(out.longestGap).toBeLessThan(900);
    expect(out.ticks).toBeGreaterThan(out.ms / 20 / 3);
  });

  test('cancelling terminates a function stuck in a loop; the pool goes on', async ({
    harnessPage,
  }) => {
    const page = await harnessPage();
    const out = await page.evaluate(async () => {
      const h = window.harness;
      const node = await h.poolNode({ store: 'memory' });
      const stuck = new h.Dag().add({ id: 'x', fn: 'spin', extraArgs: [600_000] });
      const run = node.submit(stuck);
      await new Promise<void>((resolve) => run.on('task:started', () => resolve()));
      run.cancel('enough');
      const error = await run.done.catch((e: Error) => e.name);
      const after = await node.execute(new h.Dag().add({ id: 'y', fn: 'add', extraArgs: [2, 3] }));
      const load = node.load().tasks;
      await node.close();
      return { error, after: after.results.y, load };
    });
    expect(out).toEqual({ error: 'CancelledError', after: 5, load: 0 });
  });

  test('pooled nodes of two tabs share a DAG, arguments fetched between them', async ({
    harnessPage,
  }) => {
    const [a, b] = [await harnessPage(), await harnessPage()];
    const ids = ['pool-A', 'pool-B'];
    await Promise.all(
      [a, b].map((page, i) =>
        page.evaluate(
          ({ c, id }) =>
            window.harness.poolNode({ coordinator: c, room: 'pool', id }).then(() => undefined),
          { c: coordinator(), id: ids[i] as string },
        ),
      ),
    );
    await Promise.all(
      [a, b].map((page, i) =>
        page.evaluate((id) => window.harness.waitForPeers(id, 1), ids[i] as string),
      ),
    );
    const out = await a.evaluate(async (ids) => {
      const node = window.harness.nodes.get(ids[0] as string);
      const dag = new window.harness.Dag()
        .add({ id: 'b', fn: 'bytes', extraArgs: [1_000_000], node: ids[1] })
        .add({ id: 'sum', fn: 'sumBytes', args: ['b'], node: ids[0] })
        .add({ id: 'w', fn: 'where', args: ['sum'], node: ids[1] });
      const { results } = await (node as import('../../src/index.ts').HandoutNode).execute(dag, {
        collect: 'sinks',
      });
      return results.w;
    }, ids);
    let expected = 0;
    for (let i = 0; i < 1_000_000; i++) expected = (expected + (i % 251)) % 1_000_003;
    expect(out).toEqual({ x: expected, inWorker: true, taskId: 'w', nodeId: ids[1] });
  });
});

test('in a production build, the bundled pool workers serve the functions and run a DAG', async ({
  page,
}) => {
  const { build } = await import('vite');
  const root = join(dirname(fileURLToPath(import.meta.url)), 'built');
  const outDir = mkdtempSync(join(tmpdir(), 'handout-built-'));
  await build({
    root,
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir, emptyOutDir: true, minify: true },
  });
  const files = readdirSync(outDir, { recursive: true }).map(String);
  // The workers' script was built, with its functions, into an asset of its own.
  expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
  const scripts = files.filter((f) => f.endsWith('.js'));
  expect(scripts.length).toBeGreaterThanOrEqual(2);
  const server = await serveDirectory(outDir);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  try {
    await page.goto(server.url);
    await expect(page.locator('#status')).toHaveText('ready');
    const out = await page.evaluate(() =>
      (window as unknown as { built: { run(n: number): Promise<unknown> } }).built.run(100_000),
    );
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum = (sum + (i % 251)) % 1_000_003;
    expect(out).toEqual({
      where: expect.objectContaining({ x: 100_000, inWorker: true, taskId: 'w' }),
      sum,
      nodeId: expect.any(String),
    });
    expect(errors).toEqual([]);
  } finally {
    await server.close();
    rmSync(outDir, { recursive: true, force: true });
  }
});
