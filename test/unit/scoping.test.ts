// The seed's data scoping, tested where it lives: the orchestrator's location registry and the
// node-local argument cache keep DAGs with the same task ids apart, and a worker given no
// location for an argument asks the orchestrator where it lives (the pull path).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValueCache } from '../../src/data/value-cache.ts';
import { Dag } from '../../src/index.ts';
import { Rpc } from '../../src/net/rpc.ts';
import { Method } from '../../src/runtime/base/calls.ts';
import { type TaskReport, Topic } from '../../src/runtime/base/messages.ts';
import { arithmetic } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

let current: SwarmOf | undefined;
const rpcs: Rpc[] = [];
afterEach(async () => {
  for (const rpc of rpcs.splice(0)) rpc.close();
  await current?.close();
  current = undefined;
});

/** p made on `pOn`, q = 2p on c, the same task ids in every DAG. */
const twoStep = (p: number, pOn: string) =>
  new Dag()
    .add({ id: 'p', fn: 'identity', extraArgs: [p], node: pOn })
    .add({ id: 'q', fn: 'multiply', args: ['p'], extraArgs: [2], node: 'c' });

/** An extra peer in the room that speaks the runtime's messages by hand. */
async function outsider(s: SwarmOf, id: string): Promise<Rpc> {
  const rpc = new Rpc(await s.hub.join({ id, room: 'r', heartbeatMs: 50 }), 2000);
  rpcs.push(rpc);
  await vi.waitFor(() => {
    for (const node of s.nodes) expect(node.peers().map((p) => p.id)).toContain(id);
  });
  return rpc;
}

describe('scoping by DAG id', () => {
  it('the location registry keeps two DAGs with the same task ids apart', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const later = async (x: number) => {
      await gate;
      return x;
    };
    const functions = { ...arithmetic, later };
    const s = await swarm(['a', 'b', 'c'], functions);
    current = s;
    // p on b (one) or c (two), then a task on a that waits, so both runs are live when asked.
    const dag = (p: number, pOn: string) =>
      twoStep(p, pOn).add({ id: 'r', fn: 'later', args: ['q'], node: 'a' });
    const [one, two] = [dag(1, 'b'), dag(2, 'c')];
    const runs = [s.byId('a').submit(one), s.byId('a').submit(two)];
    const asker = await outsider(s, 'z');
    const where = (dagId: string) => asker.request('a', Method.locate, { dagId, dataId: 'p' });
    await vi.waitFor(async () => {
      expect(await where(one.id)).toEqual(['b', 'c']); // made on b, fetched (and kept) by c
      expect(await where(two.id)).toEqual(['c']);
    });
    expect(await where('no-such-dag')).toEqual([]);
    open();
    const [r1, r2] = await Promise.all(runs.map((r) => r.done));
    expect(r1?.results).toEqual({ p: 1, q: 2, r: 2 });
    expect(r2?.results).toEqual({ p: 2, q: 4, r: 4 });
  });

  it('the node-local argument cache never hands one DAG another DAG’s argument', async () => {
    const s = await swarm(['a', 'b', 'c'], arithmetic);
    current = s;
    const one = twoStep(1, 'b');
    const two = twoStep(2, 'b');
    expect((await s.byId('a').execute(one)).results.q).toBe(2);
    // c now has p of `one` in its cache and store; `two` has its own p, also made on b.
    expect((await s.byId('a').execute(two)).results.q).toBe(4);
    const c = s.byId('c');
    expect(await c.store.get(one.id, 'p')).toBe(1);
    expect(await c.store.get(two.id, 'p')).toBe(2);
  });

  it('ValueCache: the same data id in two DAGs, and clearing one DAG', () => {
    const cache = new ValueCache();
    cache.set('d1', 'p', 1, 8);
    cache.set('d2', 'p', 2, 8);
    expect(cache.get('d1', 'p')).toEqual({ value: 1 });
    expect(cache.get('d2', 'p')).toEqual({ value: 2 });
    expect(cache.get('d3', 'p')).toBeUndefined();
    cache.clearDag('d1');
    expect(cache.get('d1', 'p')).toBeUndefined();
    expect(cache.get('d2', 'p')).toEqual({ value: 2 });
    expect(cache.bytes).toBe(8);
  });
});

describe('the pull path', () => {
  it('a worker given no location asks the orchestrator where the argument lives, then fetches it', async () => {
    const s = await swarm(['a', 'b', 'c'], arithmetic);
    current = s;
    const made = new Dag().add({ id: 'x', fn: 'identity', extraArgs: [7], node: 'b' });
    await s.byId('a').execute(made, { collect: 'none' });
    // An orchestrator of its own: it sends c a task whose order lists nowhere for x.
    const orchestrator = await outsider(s, 'o');
    const asked: unknown[] = [];
    orchestrator.handle(Method.locate, (body) => {
      asked.push(body);
      return ['b'];
    });
    const reports: TaskReport[] = [];
    orchestrator.onNotify(Topic.batch, ({ body }) =>
      reports.push(...((body as { reports?: TaskReport[] }).reports ?? [])),
    );
    await orchestrator.notify('c', Topic.batch, {
      orders: [
        {
          dagId: made.id,
          epoch: 0,
          attempt: 1,
          task: { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [3] },
          inline: [],
          locations: {},
        },
      ],
    });
    await vi.waitFor(() =>
      expect(reports).toContainEqual(
        expect.objectContaining({ taskId: 'y', kind: 'done', value: 21 }),
      ),
    );
    expect(asked).toEqual([{ dagId: made.id, dataId: 'x' }]);
    const done = reports.find((r) => r.kind === 'done');
    expect(done).toMatchObject({ fetched: [expect.objectContaining({ argId: 'x', from: 'b' })] });
  });
});
