import type { ChildProcess } from 'node:child_process';
import { fuzz, spawnCoordinator } from './coordinator-fuzz.ts';
import { expect, test } from './fixtures.ts';

interface Health {
  clients: { signalling: number; rooms: number };
  dropped: { total: number } & Record<string, number>;
  messages: { signalling: number; largestSignal: number };
  memory: { heapUsed: number; rss: number };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20261202);

test('a coordinator process survives thousands of hostile frames, then a real room runs a DAG through it', async ({
  harnessPage,
}) => {
  test.setTimeout(180_000);
  let child: ChildProcess | undefined;
  try {
    const started = await spawnCoordinator();
    child = started.child;
    const { url } = started;
    let exited: number | null | undefined;
    child.on('exit', (code) => {
      exited = code;
    });
    const health = async (): Promise<Health> => (await fetch(`${url}/health?gc`)).json();
    const before = await health();

    const frames = await fuzz(url, { seed: SEED, clients: 600, parallel: 40, framesEach: 12 });
    test.info().annotations.push({ type: 'fuzz', description: `seed ${SEED}, ${frames} frames` });
    expect(frames).toBeGreaterThan(2000);
    expect(exited, `the coordinator exited (seed ${SEED})`).toBeUndefined();
    const after = await health();
    expect(after.dropped.total).toBeGreaterThan(100);

    // Every fuzzing client is gone: the coordinator holds nothing of them, and its heap is back
    // near where it started.
    await expect
      .poll(
        async () => {
          const h = await health();
          return { ...h.clients, heapGrew: h.memory.heapUsed - before.memory.heapUsed < 16 << 20 };
        },
        { timeout: 30_000 },
      )
      .toEqual({ signalling: 0, rooms: 0, addresses: 0, heapGrew: true });

    // Two real tabs join a room through it and run a DAG across each other.
    const [a, b] = [await harnessPage(), await harnessPage()];
    await Promise.all(
      [a, b].map((page, i) =>
        page.evaluate(
          ({ c, id }) =>
            window.harness.node({ coordinator: c, room: 'after-fuzz', id }).then(() => undefined),
          { c: url, id: `survivor-${i}` },
        ),
      ),
    );
    await a.evaluate(() => window.harness.waitForPeers('survivor-0', 1));
    const result = await a.evaluate(async () => {
      const dag = new window.harness.Dag('after-fuzz');
      dag.add({ id: 'x', fn: 'identity', extraArgs: [7], node: 'survivor-1' });
      dag.add({ id: 'y', fn: 'multiply', args: ['x'], extraArgs: [6], node: 'survivor-0' });
      return (await window.harness.nodes.get('survivor-0')?.execute(dag))?.results;
    });
    expect(result).toEqual({ x: 7, y: 42 });
    const final = await health();
    expect(exited).toBeUndefined();
    // The largest real signalling message, for sizing maxSignalBytes.
    test.info().annotations.push({
      type: 'largest signalling message',
      description: `${final.messages.largestSignal} bytes`,
    });
  } finally {
    child?.kill('SIGKILL');
  }
});
