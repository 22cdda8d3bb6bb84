import { spawn } from 'node:child_process';
import { expect, test } from './fixtures.ts';
import { coordinator } from './room.ts';

test('a tab orchestrates a DAG pinned partly on a Node.js worker and partly on another tab', async ({
  harnessPage,
}) => {
  // The Node.js worker, as users start it: the CLI with a module of functions.
  const worker = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/node/worker-cli.ts',
      '--coordinator',
      coordinator(),
      '--room',
      'edge',
      '--functions',
      'test/browser/pages/functions.ts',
      '--id',
      'edge-node',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  worker.stdout?.on('data', (d) => {
    log += String(d);
  });
  worker.stderr?.on('data', (d) => {
    log += String(d);
  });
  const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
  try {
    const [a, b] = [await harnessPage(), await harnessPage()];
    const ids = ['edge-A', 'edge-B'];
    await Promise.all(
      [a, b].map((page, i) =>
        page.evaluate(
          ({ c, id }) =>
            window.harness.node({ coordinator: c, room: 'edge', id }).then(() => undefined),
          { c: coordinator(), id: ids[i] as string },
        ),
      ),
    );
    for (const [i, page] of [a, b].entries()) {
      const peers = await page.evaluate(
        (id) => window.harness.waitForPeers(id, 2),
        ids[i] as string,
      );
      expect(peers).toContain('edge-node');
    }
    const out = await a.evaluate(async () => {
      const h = window.harness;
      const dag = new h.Dag('edge-dag')
        .add({ id: 'payload', fn: 'bytes', extraArgs: [2_000_000], node: 'edge-node' })
        .add({ id: 'sum', fn: 'sumBytes', args: ['payload'], node: 'edge-B' })
        .add({ id: 'onNode', fn: 'runtime', args: ['sum'], node: 'edge-node' })
        .add({ id: 'inTab', fn: 'runtime', args: ['onNode'], node: 'edge-A' });
      const run = h.nodes.get('edge-A')?.submit(dag, { collect: 'sinks' });
      const fetched: { argId: string; from: string; to: string; bytes: number }[] = [];
      run?.on('task:fetched', (f) => fetched.push(f));
      const result = await run?.done;
      return { result, fetched };
    });
    let expected = 0;
    for (let i = 0; i < 2_000_000; i++) expected = (expected + (i % 251)) % 1_000_003;
    expect(out.result?.results.inTab).toEqual({
      x: { x: expected, on: 'edge-node', in: 'node' },
      on: 'edge-A',
      in: 'browser',
    });
    expect(out.result?.allocations).toEqual({
      payload: 'edge-node',
      sum: 'edge-B',
      onNode: 'edge-node',
      inTab: 'edge-A',
    });
    // The 2 MB payload went from the Node.js process straight to tab B.
    expect(out.fetched).toContainEqual(
      expect.objectContaining({ argId: 'payload', from: 'edge-node', to: 'edge-B' }),
    );
    expect(log).toMatch(/ran +edge-dag\/payload \(bytes\)/);
  } finally {
    worker.kill('SIGINT');
    expect(await exited).toBe(0);
  }
});
