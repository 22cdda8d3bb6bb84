import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AllocationError,
  createMemoryStore,
  createNode,
  Dag,
  DataNotFoundError,
  type EdgeContext,
  type ResultStore,
  type RunEvents,
  TaskFailedError,
  UnknownDagError,
  withContext,
} from '../../src/index.ts';
import { WAIT_TIMEOUT_MS } from '../../src/runtime/serve/data-service.ts';
import { arithmetic, rejection } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

/** Where each function ran, by node id: filled by `where`-wrapped functions. */
const ranOn = new Map<string, string>();
const running = new Map<string, number>();
let peak = new Map<string, number>();

const functions = {
  ...arithmetic,
  where: withContext((ctx, x: unknown) => {
    ranOn.set(`${ctx.dagId}/${ctx.taskId}`, ctx.nodeId);
    return x;
  }),
  bytes: (n: number) => new Uint8Array(n).fill(3),
  length: (b: Uint8Array) => b.length,
  nodeOf: withContext((ctx) => ctx.nodeId),
  busy: withContext(async (ctx, ms: number) => {
    const now = (running.get(ctx.nodeId) ?? 0) + 1;
    running.set(ctx.nodeId, now);
    peak.set(ctx.nodeId, Math.max(peak.get(ctx.nodeId) ?? 0, now));
    await new Promise((r) => setTimeout(r, ms));
    running.set(ctx.nodeId, (running.get(ctx.nodeId) ?? 1) - 1);
    return ctx.nodeId;
  }),
  failOn: withContext((ctx, bad: string) => {
    if (ctx.nodeId === bad) throw new RangeError(`no good on ${bad}`);
    return ctx.nodeId;
  }),
  toText: (v: unknown, e: EdgeContext) =>
    JSON.stringify({ v, serializedOn: e.producer, for: e.consumer }),
  fromText: withContext((ctx) => ctx.nodeId), // never used as a hook: hooks get an EdgeContext
  parseText: (t: string, e: EdgeContext) => ({
    ...JSON.parse(t),
    deserializedOn: e.consumer,
    producer: e.producer,
  }),
};

let current: SwarmOf | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
  ranOn.clear();
  running.clear();
  peak = new Map();
});

async function three(capabilities = {}) {
  current = await swarm(['a', 'b', 'c'], functions, capabilities);
  return current;
}

describe('distributed execution over the in-memory transport', () => {
  it('runs the README example from any node, with real values for every task', async () => {
    const { nodes } = await three();
    const dag = new Dag()
      .add({ id: 'src', fn: 'identity', extraArgs: [42] })
      .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] })
      .add({ id: 'out', fn: 'format', args: ['dbl'] });
    const node = nodes[1];
    if (node === undefined) throw new Error('no node');
    const { dagId, results, allocations } = await node.execute(dag);
    expect(dagId).toBe(dag.id);
    expect(results).toEqual({ src: 42, dbl: 84, out: 'value: 84' });
    for (const peer of Object.values(allocations)) expect(['a', 'b', 'c']).toContain(peer);
  });

  it('spreads independent tasks over the peers (least loaded)', async () => {
    const { byId } = await three();
    const dag = new Dag();
    for (let i = 0; i < 30; i++) dag.add({ id: `t${i}`, fn: 'busy', extraArgs: [5] });
    const { allocations, results } = await byId('a').execute(dag);
    expect(new Set(Object.values(allocations))).toEqual(new Set(['a', 'b', 'c']));
    for (const [id, peer] of Object.entries(allocations)) expect(results[id]).toBe(peer);
  });

  it('fetches a remote argument straight from its producer and caches it on the consumer only', async () => {
    const { byId } = await three();
    const dag = new Dag()
      .add({ id: 'p', fn: 'bytes', extraArgs: [100_000], node: 'b' })
      .add({ id: 'c', fn: 'length', args: ['p'], node: 'c' });
    const run = byId('a').submit(dag);
    const fetches: RunEvents['task:fetched'][] = [];
    run.on('task:fetched', (f) => fetches.push(f));
    const { results, allocations } = await run.done;
    expect(results.c).toBe(100_000);
    expect(allocations).toEqual({ p: 'b', c: 'c' });
    expect(fetches).toEqual([
      expect.objectContaining({ taskId: 'c', argId: 'p', from: 'b', to: 'c' }),
    ]);
    expect(fetches[0]?.bytes).toBeGreaterThanOrEqual(100_000);
    expect((await byId('b').store.keys(dag.id)).sort()).toEqual(['p']);
    expect((await byId('c').store.keys(dag.id)).sort()).toEqual(['c', 'p']);
    expect(await byId('a').store.keys(dag.id)).toEqual([]);
  });

  it('keeps concurrent runs of one definition from two orchestrators apart', async () => {
    const { byId, nodes } = await three();
    const make = (seed: number) =>
      new Dag()
        .add({ id: 'src', fn: 'identity', extraArgs: [seed], node: 'b' })
        .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2], node: 'c' });
    const dags = Array.from({ length: 10 }, (_, i) => make(i));
    const runs = await Promise.all(dags.map((d, i) => byId(i % 2 ? 'a' : 'b').execute(d)));
    for (const [i, r] of runs.entries()) expect(r.results).toEqual({ src: i, dbl: i * 2 });
    for (const node of nodes) {
      for (const id of await node.dags()) expect(dags.map((d) => d.id)).toContain(id);
    }
    expect(await byId('c').result(dags[3]?.id as string, 'dbl')).toBe(6);
  });

  it('answers result() from any peer, with typed errors for unknown ids', async () => {
    const { byId } = await three();
    const dag = new Dag().add({ id: 'x', fn: 'identity', extraArgs: ['held by c'], node: 'c' });
    await byId('a').execute(dag, { collect: 'none' });
    expect(await byId('b').result(dag.id, 'x')).toBe('held by c');
    expect(await rejection(byId('b').result(dag.id, 'nope'))).toBeInstanceOf(DataNotFoundError);
    expect(await rejection(byId('b').result('no-such-dag', 'x'))).toBeInstanceOf(UnknownDagError);
    expect(await rejection(byId('c').result('no-such-dag', 'x'))).toBeInstanceOf(UnknownDagError);
  });

  it('names a peer it could not reach when result() finds nothing: the DAG unknown to the rest', async () => {
    const { byId, hub } = await three();
    // Only c knows this DAG: it orchestrated it and holds its one value.
    const dag = new Dag().add({ id: 'x', fn: 'identity', extraArgs: ['on c'], node: 'c' });
    await byId('c').execute(dag, { collect: 'none' });
    hub.partition(['b'], ['c']);
    const error = await rejection(byId('b').result(dag.id, 'x'));
    expect(error).toBeInstanceOf(UnknownDagError);
    expect((error as Error).message).toContain('no answer from c');
    hub.heal();
    expect(await byId('a').result(dag.id, 'x')).toBe('on c');
  });

  it('names a peer it could not reach when result() finds nothing: the DAG known, the item not', async () => {
    const { byId, hub } = await three();
    // a orchestrated it (and knows it), c holds the value.
    const dag = new Dag().add({ id: 'x', fn: 'identity', extraArgs: ['on c'], node: 'c' });
    await byId('a').execute(dag, { collect: 'none' });
    hub.partition(['b'], ['c']);
    const error = await rejection(byId('b').result(dag.id, 'x'));
    expect(error).toBeInstanceOf(DataNotFoundError);
    expect(error).toMatchObject({ dagId: dag.id, dataId: 'x' });
    expect((error as Error).message).toContain('no answer from c');
  });

  it('clears a DAG on every peer, leaving the others', async () => {
    const { byId, nodes } = await three();
    const keep = new Dag().add({ id: 'k', fn: 'identity', extraArgs: [1], node: 'b' });
    const drop = new Dag()
      .add({ id: 'p', fn: 'identity', extraArgs: [2], node: 'b' })
      .add({ id: 'q', fn: 'identity', args: ['p'], node: 'c' });
    await byId('a').execute(keep);
    await byId('a').execute(drop);
    await byId('c').clear(drop.id);
    for (const node of nodes) expect(await node.store.keys(drop.id)).toEqual([]);
    expect(await rejection(byId('a').result(drop.id, 'q'))).toBeInstanceOf(UnknownDagError);
    expect(await byId('a').result(keep.id, 'k')).toBe(1);
  });

  it('fails at once with AllocationError for an absent pinned peer or a cost nobody covers', async () => {
    const { byId } = await three({ a: { cpu: 2 }, b: { cpu: 2 }, c: { cpu: 8 } });
    const absent = new Dag().add({ id: 't', fn: 'identity', node: 'zed' });
    expect(await rejection(byId('a').execute(absent))).toMatchObject({
      name: 'AllocationError',
      taskId: 't',
      node: 'zed',
    });
    const tooBig = new Dag().add({ id: 'big', fn: 'identity', cost: { cpu: 16 } });
    expect(await rejection(byId('a').execute(tooBig))).toBeInstanceOf(AllocationError);
    const pinnedTooBig = new Dag().add({ id: 'p', fn: 'identity', cost: { cpu: 4 }, node: 'b' });
    expect(await rejection(byId('a').execute(pinnedTooBig))).toMatchObject({
      taskId: 'p',
      node: 'b',
    });
    const gpu = new Dag().add({ id: 'g', fn: 'identity', cost: { gpu: 1 } });
    expect(await rejection(byId('a').execute(gpu))).toBeInstanceOf(AllocationError);
  });

  it('places a collocated task with its target, choosing the peer for their merged cost', async () => {
    const { byId } = await three({ a: { cpu: 2 }, b: { cpu: 2 }, c: { cpu: 8 } });
    const dag = new Dag()
      .add({ id: 'x', fn: 'nodeOf', cost: { cpu: 2 } })
      .add({ id: 'y', fn: 'nodeOf', cost: { cpu: 2 }, node: { collocatedWith: 'x' } })
      .add({ id: 'z', fn: 'nodeOf', cost: { cpu: 1 }, node: { collocatedWith: 'y' } });
    const { allocations, results } = await byId('a').execute(dag);
    expect(allocations).toEqual({ x: 'c', y: 'c', z: 'c' });
    expect(results).toEqual({ x: 'c', y: 'c', z: 'c' });
  });

  it('never runs more than a worker’s capacity, across DAGs from different orchestrators', async () => {
    const { byId } = await three({ a: { cpu: 1 }, b: { cpu: 1 }, c: { cpu: 1 } });
    const make = () => {
      const dag = new Dag();
      for (let i = 0; i < 6; i++)
        dag.add({ id: `t${i}`, fn: 'busy', extraArgs: [10], cost: { cpu: 1 } });
      return dag;
    };
    const results = await Promise.all([
      byId('a').execute(make()),
      byId('b').execute(make()),
      byId('c').execute(make()),
    ]);
    expect(results.flatMap((r) => Object.values(r.results))).toHaveLength(18);
    for (const id of ['a', 'b', 'c']) expect(peak.get(id) ?? 0).toBeLessThanOrEqual(1);
    expect([...peak.values()].filter((n) => n > 0).length).toBe(3);
  });

  it('prefers the peer that holds the most bytes of the inputs', async () => {
    const { byId } = await three();
    const dag = new Dag()
      .add({ id: 'big', fn: 'bytes', extraArgs: [200_000], node: 'c' })
      .add({ id: 'use', fn: 'length', args: ['big'] });
    const { allocations } = await byId('a').execute(dag);
    expect(allocations.use).toBe('c');
  });

  it('retries a failing task elsewhere, and reports the remote cause when retries run out', async () => {
    const { byId } = await three();
    const pinnedBad = new Dag().add({ id: 'f', fn: 'failOn', extraArgs: ['b'], node: 'b' });
    const error = await rejection(byId('a').execute(pinnedBad, { maxRetries: 1 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ taskId: 'f', node: 'b', attempts: 2 });
    expect((error as TaskFailedError).message).toContain('no good on b');
    expect((error as TaskFailedError).cause).toMatchObject({
      remoteCode: 'RangeError',
      peerId: 'b',
    });
  });

  it('runs serialize where the value was produced and deserialize where it is consumed', async () => {
    const { byId } = await three();
    const dag = new Dag().add({ id: 'p', fn: 'identity', extraArgs: [{ n: 1 }], node: 'b' }).add({
      id: 'c',
      fn: 'identity',
      args: [{ from: 'p', serialize: 'toText', deserialize: 'parseText' }],
      node: 'c',
    });
    const { results } = await byId('a').execute(dag);
    expect(results.c).toEqual({
      v: { n: 1 },
      serializedOn: 'b',
      for: 'c',
      deserializedOn: 'c',
      producer: 'b',
    });
    // The serialized form is that edge's own: not cached on the consumer.
    expect(await byId('c').store.keys(dag.id)).toEqual(['c']);
  });

  it('evaluates inline tasks on the consumer’s peer', async () => {
    const { byId } = await three();
    const dag = new Dag()
      .add({ id: 'i', fn: 'nodeOf', inline: true })
      .add({ id: 'c', fn: 'list', args: ['i'], node: 'b' });
    const { results } = await byId('a').execute(dag);
    expect(results).toEqual({ c: ['b'] });
  });

  it('collects all, only sinks, or nothing', async () => {
    const { byId } = await three();
    const dag = () =>
      new Dag()
        .add({ id: 's', fn: 'identity', extraArgs: [1] })
        .add({ id: 't', fn: 'identity', args: ['s'] });
    expect((await byId('a').execute(dag(), { collect: 'sinks' })).results).toEqual({ t: 1 });
    expect((await byId('a').execute(dag(), { collect: 'none' })).results).toEqual({});
    expect((await byId('a').execute(dag())).results).toEqual({ s: 1, t: 1 });
  });

  it('reports progress and status through the run handle', async () => {
    const { byId } = await three();
    const dag = new Dag()
      .add({ id: 's', fn: 'identity', extraArgs: [1], node: 'b' })
      .add({ id: 't', fn: 'identity', args: ['s'], node: 'c' });
    const run = byId('a').submit(dag);
    const seen: string[] = [];
    for (const e of ['task:placed', 'task:started', 'task:finished'] as const) {
      run.on(e, (ev) => seen.push(`${e} ${ev.taskId}@${ev.peer}`));
    }
    expect(run.status().tasks.t?.state).toBe('waiting');
    await run.done;
    // t is pinned, like its producer: it goes out early and waits on c for s's value.
    expect(seen).toEqual([
      'task:placed s@b',
      'task:placed t@c',
      'task:started s@b',
      'task:finished s@b',
      'task:started t@c',
      'task:finished t@c',
    ]);
    expect(await byId('a').status(dag.id)).toMatchObject({
      state: 'done',
      tasks: { s: { state: 'done', peer: 'b' }, t: { state: 'done', peer: 'c' } },
    });
  });

  it('places a vanished worker’s tasks again on the remaining peers', async () => {
    const { byId, hub } = await three();
    const dag = new Dag();
    for (let i = 0; i < 9; i++) dag.add({ id: `t${i}`, fn: 'busy', extraArgs: [300] });
    const run = byId('a').submit(dag);
    await vi.waitFor(() =>
      expect(Object.values(run.status().tasks).some((t) => t.peer === 'c')).toBe(true),
    );
    hub.vanish('c');
    const { allocations } = await run.done;
    expect(Object.values(allocations)).not.toContain('c');
  });
});

describe('storage failures on a worker', () => {
  it('fail the run with StorageError naming the DAG and the item', async () => {
    const { createMemoryStore, createNode, StorageError } = await import('../../src/index.ts');
    const { MemoryHub } = await import('../../src/testing/memory.ts');
    const hub = new MemoryHub();
    const broken = {
      ...createMemoryStore(),
      put: (d: string, i: string) =>
        Promise.reject(new StorageError('put', d, i, 'quota exceeded')),
    };
    const a = await createNode({
      functions,
      transport: await hub.join({ id: 'a' }),
      store: createMemoryStore(),
    });
    const b = await createNode({
      functions,
      transport: await hub.join({ id: 'b' }),
      store: broken,
    });
    try {
      await vi.waitFor(() => expect(a.peers()).toHaveLength(1));
      const dag = new Dag().add({ id: 'x', fn: 'identity', extraArgs: [1], node: 'b' });
      const error = await rejection(a.execute(dag));
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ dagId: dag.id, dataId: 'x' });
      expect((error as Error).message).toContain('quota exceeded');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('pinned tasks sent before their inputs exist', () => {
  it('wait on their peer for the value, also when the producer needs a retry', async () => {
    let calls = 0;
    const flakyFns = {
      ...functions,
      flaky: (x: number) => {
        calls++;
        if (calls === 1) throw new Error('first attempt fails');
        return x;
      },
    };
    const s = await swarm(['a', 'b', 'c'], flakyFns);
    current = s;
    const dag = new Dag().add({ id: 'p', fn: 'flaky', extraArgs: [7], node: 'b' });
    let previous = 'p';
    for (let i = 0; i < 30; i++) {
      dag.add({
        id: `t${i}`,
        fn: 'add',
        args: [previous],
        extraArgs: [1],
        node: i % 2 ? 'b' : 'c',
      });
      previous = `t${i}`;
    }
    const { results } = await s.byId('a').execute(dag, { maxRetries: 1, collect: 'sinks' });
    expect(results).toEqual({ t29: 37 });
    expect(calls).toBe(2);
  });
});

describe('small DAGs sent early', () => {
  it('follow their producer onto one peer and still give the right results', async () => {
    const s = await swarm(['a', 'b', 'c'], functions);
    current = s;
    const runs = Array.from({ length: 20 }, (_, i) =>
      s.byId(i % 2 ? 'a' : 'b').submit(
        new Dag()
          .add({ id: 'src', fn: 'identity', extraArgs: [i] })
          .add({ id: 'x', fn: 'add', args: ['src'], extraArgs: [1] })
          .add({ id: 'y', fn: 'add', args: ['src'], extraArgs: [2] })
          .add({ id: 'sum', fn: 'add', args: ['x', 'y'] }),
      ),
    );
    const results = await Promise.all(runs.map((r) => r.done));
    for (const [i, r] of results.entries()) {
      expect(r.results).toEqual({ src: i, x: i + 1, y: i + 2, sum: 2 * i + 3 });
      expect(new Set(Object.values(r.allocations)).size).toBe(1);
    }
  });
});

describe('placement on an idle room', () => {
  it('keeps a chain on the orchestrator when every peer is as idle: no order, report or fetch crosses', async () => {
    const s = await swarm(['a', 'b', 'c'], functions);
    current = s;
    const chain = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [0] });
    for (let i = 1; i < 30; i++)
      chain.add({ id: `t${i}`, fn: 'add', args: [`t${i - 1}`], extraArgs: [1] });
    // 'b' is not the lowest id: a tie used to go to 'a'.
    const { results, allocations } = await s.byId('b').execute(chain, { collect: 'sinks' });
    expect(results).toEqual({ t29: 29 });
    expect(new Set(Object.values(allocations))).toEqual(new Set(['b']));
  });
});

describe('waiting fetches', () => {
  it('leave no deadline behind once answered: a long-lived node gathers no timers', async () => {
    const s = await swarm(['a', 'b', 'c'], functions);
    current = s;
    const set = vi.spyOn(globalThis, 'setTimeout');
    const cleared = vi.spyOn(globalThis, 'clearTimeout');
    // Pinned alternately on b and c: each task goes out early and waits there for its input.
    const chain = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [0], node: 'b' });
    for (let i = 1; i < 20; i++)
      chain.add({ id: `t${i}`, fn: 'add', args: [`t${i - 1}`], extraArgs: [1], node: 'bc'[i % 2] });
    const { results } = await s.byId('a').execute(chain, { collect: 'sinks' });
    expect(results).toEqual({ t19: 19 });
    const deadlines = set.mock.results
      .filter((_, i) => set.mock.calls[i]?.[1] === WAIT_TIMEOUT_MS)
      .map((r) => r.value);
    const gone = new Set(cleared.mock.calls.map((c) => c[0]));
    set.mockRestore();
    cleared.mockRestore();
    expect(deadlines.length).toBeGreaterThan(0);
    expect(deadlines.filter((t) => !gone.has(t))).toEqual([]);
  });
});

describe('the end of a run', () => {
  /** Memory stores that count the times each node asks its store to commit now. */
  const counted = () => {
    const flushes: Record<string, number> = {};
    const store = (id: string): ResultStore => {
      flushes[id] = 0;
      return Object.assign(createMemoryStore(`memory:${id}`), {
        flush: () => {
          flushes[id] = (flushes[id] ?? 0) + 1;
        },
      });
    };
    return { flushes, store };
  };

  it('does not wait for a commit window: a worker left with nothing to run commits at once', async () => {
    const { flushes, store } = counted();
    const s = await swarm(['a', 'b', 'c'], functions, {}, 'r', store);
    current = s;
    // Pinned alternately on b and c: every task of each is held there from the start.
    const chain = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [0], node: 'b' });
    for (let i = 1; i < 20; i++)
      chain.add({ id: `t${i}`, fn: 'add', args: [`t${i - 1}`], extraArgs: [1], node: 'bc'[i % 2] });
    const { results } = await s.byId('a').execute(chain, { collect: 'sinks' });
    expect(results).toEqual({ t19: 19 });
    // Once each, after its last task: not after every task, which would cost a commit each.
    expect(flushes).toEqual({ a: 0, b: 1, c: 1 });
  });

  it("commits a lone node's results at once after its last task", async () => {
    const { flushes, store } = counted();
    const node = await createNode({ functions, store: store('solo') });
    const dag = new Dag()
      .add({ id: 'x', fn: 'identity', extraArgs: [2] })
      .add({ id: 'y', fn: 'add', args: ['x'], extraArgs: [3] })
      .add({ id: 'z', fn: 'add', args: ['y'], extraArgs: [4] });
    const { results } = await node.execute(dag);
    expect(results).toEqual({ x: 2, y: 5, z: 9 });
    expect(flushes).toEqual({ solo: 1 });
    await node.close();
  });
});

describe('long chains and wide fan-ins', () => {
  it('run without deepening the stack or rescanning the fan-in', async () => {
    const s = await swarm(['a', 'b'], functions);
    current = s;
    const chain = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [0] });
    for (let i = 1; i < 20_000; i++)
      chain.add({ id: `t${i}`, fn: 'add', args: [`t${i - 1}`], extraArgs: [1] });
    const fan = new Dag().add({ id: 'src', fn: 'identity', extraArgs: [1] });
    const middle = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    for (const id of middle) fan.add({ id, fn: 'add', args: ['src'], extraArgs: [1] });
    fan.add({ id: 'sum', fn: 'add', args: middle });
    const a = s.byId('a');
    expect((await a.execute(chain, { collect: 'sinks' })).results).toEqual({ t19999: 19_999 });
    expect((await a.execute(fan, { collect: 'sinks' })).results).toEqual({ sum: 10_000 });
  }, 60_000);
});

describe('maxConcurrency across the room', () => {
  it('bounds the run’s tasks in flight on all peers together, and runs every task once', async () => {
    let now = 0;
    let top = 0;
    const ran: number[] = [];
    const s = await swarm(['a', 'b', 'c'], {
      ...functions,
      slow: async (i: number) => {
        top = Math.max(top, ++now);
        ran.push(i);
        await new Promise((r) => setTimeout(r, 1));
        now--;
        return i;
      },
    });
    current = s;
    const dag = new Dag();
    for (let i = 0; i < 300; i++) dag.add({ id: `t${i}`, fn: 'slow', extraArgs: [i] });
    const { results } = await s.byId('a').execute(dag, { maxConcurrency: 3 });
    expect(top).toBe(3);
    expect(ran.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(Object.values(results)).toHaveLength(300);
  }, 30_000);
});
