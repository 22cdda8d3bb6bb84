// Allocation strategies: the pure first-available rule and the checks of a custom allocator's
// answer, then each strategy through `execute` over the in-memory transport, a custom
// allocator asked again for the tasks of a peer that left, and a local node.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AllocationError,
  type Allocator,
  type AllocatorTask,
  createMemoryStore,
  createNode,
  Dag,
  withContext,
} from '../../src/index.ts';
import { placeFirstAvailable } from '../../src/schedule/placement.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

const functions = {
  nodeOf: withContext((ctx) => ctx.nodeId),
  slowNodeOf: withContext(async (ctx, ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return ctx.nodeId;
  }),
};

let current: SwarmOf | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const peer = (id: string, cpu: number, used = 0, tasks = 0) => ({
  id,
  capabilities: { cpu },
  used: { cpu: used },
  tasks,
});

describe('first-available', () => {
  it('takes the first peer by id with room now, waits when none has, refuses what none could hold', () => {
    const peers = [peer('c', 4), peer('a', 2, 2, 2), peer('b', 4, 1, 1)];
    expect(placeFirstAvailable({ cost: { cpu: 1 } }, peers)).toEqual({ kind: 'peer', peer: 'b' });
    expect(placeFirstAvailable({ cost: { cpu: 4 } }, peers)).toEqual({ kind: 'peer', peer: 'c' });
    expect(placeFirstAvailable({ cost: { cpu: 3 } }, [peer('a', 4, 2)])).toEqual({ kind: 'wait' });
    expect(placeFirstAvailable({ cost: { cpu: 8 } }, peers)).toMatchObject({ kind: 'never' });
    expect(placeFirstAvailable({ cost: {}, pinned: 'c' }, peers)).toEqual({
      kind: 'peer',
      peer: 'c',
    });
  });

  it('runs a fan-out on the first peers by id, where load-balanced spreads it', async () => {
    current = await swarm(['a', 'b', 'c'], functions, {
      a: { cpu: 2 },
      b: { cpu: 2 },
      c: { cpu: 2 },
    });
    const fanOut = () => {
      const dag = new Dag();
      for (let i = 0; i < 4; i++)
        dag.add({ id: `t${i}`, fn: 'slowNodeOf', extraArgs: [30], cost: { cpu: 1 } });
      return dag;
    };
    const { byId } = current;
    const first = await byId('c').execute(fanOut(), { allocation: 'first-available' });
    expect(Object.values(first.allocations).sort()).toEqual(['a', 'a', 'b', 'b']);
    // Until a and b say they are idle again, their load as c last heard it is still full.
    await vi.waitFor(() =>
      expect([byId('c').load('a').tasks, byId('c').load('b').tasks]).toEqual([0, 0]),
    );
    const spread = await byId('c').execute(fanOut());
    expect(new Set(Object.values(spread.allocations)).size).toBe(3);
  });
});

describe('a custom allocator', () => {
  it('places every task where it says, seeing tasks with their pins, groups and inputs and peers with their load', async () => {
    current = await swarm(['a', 'b', 'c'], functions);
    const seen: { tasks: AllocatorTask[]; peers: string[] }[] = [];
    const allocator: Allocator = (tasks, peers) => {
      seen.push({ tasks: [...tasks], peers: peers.map((p) => p.id).sort() });
      return Object.fromEntries(
        tasks.map((t) => [t.id, t.node ?? (t.fn === 'nodeOf' ? 'c' : 'b')]),
      );
    };
    const dag = new Dag()
      .add({ id: 'x', fn: 'nodeOf' })
      .add({ id: 'y', fn: 'nodeOf', args: ['x'], node: { collocatedWith: 'x' } })
      .add({ id: 'z', fn: 'slowNodeOf', extraArgs: [1] })
      .add({ id: 'p', fn: 'nodeOf', node: 'a' });
    const { results } = await current.byId('a').execute(dag, { allocation: allocator });
    expect(results).toEqual({ x: 'c', y: 'c', z: 'b', p: 'a' });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.peers).toEqual(['a', 'b', 'c']);
    expect(seen[0]?.tasks).toEqual(
      expect.arrayContaining([
        { id: 'y', fn: 'nodeOf', cost: {}, node: undefined, collocatedWith: 'x', deps: ['x'] },
        { id: 'p', fn: 'nodeOf', cost: {}, node: 'a', collocatedWith: undefined, deps: [] },
      ]),
    );
  });

  it.each([
    [
      'an unknown peer',
      () => ({ x: 'nowhere', y: 'b', p: 'a' }),
      /peer nowhere, which is not in the room/,
      'x',
    ],
    [
      'a broken pin',
      () => ({ x: 'b', y: 'b', p: 'c' }),
      /pinned to peer a, but the allocator chose c/,
      'p',
    ],
    [
      'a split collocation group',
      () => ({ x: 'b', y: 'c', p: 'a' }),
      /collocated with x, placed on b, but the allocator chose c/,
      'y',
    ],
    ['a task left out', () => ({ x: 'b', y: 'b' }), /gave it no peer/, 'p'],
    [
      'an over-committed peer',
      () => ({ x: 'a', y: 'a', p: 'a' }),
      /over-committed peer a: its cost cpu 3/,
      'x',
    ],
    [
      // Nothing in particular is wrong: the first task it was asked about is named.
      'a throw',
      () => {
        throw new Error('no idea');
      },
      /the allocator threw: no idea/,
      'p',
    ],
    [
      'a promise',
      async () => ({ x: 'b', y: 'b', p: 'a' }),
      /returned a promise; it must answer synchronously/,
      'p',
    ],
  ] as const)(
    'refuses %s with AllocationError naming the task, before anything runs',
    async (_, answer, message, task) => {
      current = await swarm(['a', 'b', 'c'], functions, {
        a: { cpu: 2 },
        b: { cpu: 4 },
        c: { cpu: 4 },
      });
      const dag = new Dag()
        .add({ id: 'x', fn: 'nodeOf', cost: { cpu: 2 } })
        .add({
          id: 'y',
          fn: 'nodeOf',
          args: ['x'],
          node: { collocatedWith: 'x' },
          cost: { cpu: 1 },
        })
        .add({ id: 'p', fn: 'nodeOf', node: 'a' });
      const run = current.byId('b').submit(dag, { allocation: answer as unknown as Allocator });
      const error = await run.done.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AllocationError);
      expect((error as AllocationError).taskId).toBe(task);
      expect((error as Error).message).toMatch(message);
      for (const node of current.nodes) expect(await node.store.keys(dag.id)).toEqual([]);
    },
  );

  it('is asked again, with the peers left, for the tasks of a peer that left before running them', async () => {
    current = await swarm(['a', 'b', 'c'], functions, {
      a: { cpu: 4 },
      b: { cpu: 4 },
      c: { cpu: 1 },
    });
    const asked: string[][] = [];
    const allocator: Allocator = (tasks, peers) => {
      asked.push(tasks.map((t) => t.id));
      const target = peers.some((p) => p.id === 'c') ? 'c' : 'b';
      return Object.fromEntries(tasks.map((t) => [t.id, t.id === 'first' ? 'a' : target]));
    };
    const dag = new Dag()
      .add({ id: 'first', fn: 'slowNodeOf', extraArgs: [150] })
      .add({ id: 'later', fn: 'nodeOf', args: ['first'] });
    const run = current.byId('a').submit(dag, { allocation: allocator });
    await new Promise((r) => setTimeout(r, 20));
    await current.byId('c').close();
    const { results } = await run.done;
    expect(results).toEqual({ first: 'a', later: 'b' });
    expect(asked).toEqual([['first', 'later'], ['later']]);
  });

  it('runs on a local node too, where the only peer is the node itself', async () => {
    const node = await createNode({ functions, store: createMemoryStore('memory:alloc-local') });
    try {
      const dag = new Dag().add({ id: 'x', fn: 'nodeOf' });
      const own = await node.execute(dag, {
        allocation: (_tasks, peers) => ({ x: peers[0]?.id ?? '' }),
      });
      expect(own.results).toEqual({ x: node.id });
      const elsewhere = node.execute(new Dag().add({ id: 'x', fn: 'nodeOf' }), {
        allocation: () => ({ x: 'someone-else' }),
      });
      await expect(elsewhere).rejects.toThrow(AllocationError);
      await expect(
        node.execute(dag, { allocation: 'round-robin' as 'first-available' }),
      ).rejects.toThrow(RangeError);
    } finally {
      await node.close();
    }
  });
});
