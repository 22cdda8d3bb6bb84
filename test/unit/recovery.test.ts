import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AllocationError,
  CancelledError,
  createMemoryStore,
  Dag,
  type RunEvents,
  TaskFailedError,
  UnknownDagError,
  withContext,
} from '../../src/index.ts';
import { arithmetic, type Deferred, deferred, rejection } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

/** Calls of each task, by `dagId/taskId`, and the node of the last one. */
const calls = new Map<string, number>();
const ranOn = new Map<string, string>();
let gate: Deferred<void> = deferred();

const count = (ctx: { dagId: string; taskId: string; nodeId: string }) => {
  const key = `${ctx.dagId}/${ctx.taskId}`;
  calls.set(key, (calls.get(key) ?? 0) + 1);
  ranOn.set(key, ctx.nodeId);
};

const functions = {
  ...arithmetic,
  /** Counts its calls and adds its inputs and extra numbers. */
  sum: withContext((ctx, ...xs: number[]) => {
    count(ctx);
    return xs.reduce((s, x) => s + x, 0);
  }),
  /** Waits for the test to open the gate, then adds like `sum`. */
  gated: withContext(async (ctx, ...xs: number[]) => {
    count(ctx);
    await gate.promise;
    return xs.reduce((s, x) => s + x, 0);
  }),
  /** Never ends unless its signal aborts. */
  hang: withContext(
    (ctx) =>
      new Promise((_, reject) => {
        count(ctx);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      }),
  ),
  bytes: withContext((ctx, n: number) => {
    count(ctx);
    return new Uint8Array(n).fill(7);
  }),
  length: (b: Uint8Array) => b.length,
  boom: withContext((ctx) => {
    count(ctx);
    throw new RangeError(`boom on ${ctx.nodeId}`);
  }),
  /** Hangs on its first attempt, answers at once on the next. */
  slowOnce: withContext(async (ctx, x: number) => {
    count(ctx);
    if (ctx.attempt === 1)
      await new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
      );
    return x;
  }),
};

let current: SwarmOf | undefined;
afterEach(async () => {
  gate.resolve();
  await current?.close();
  current = undefined;
  calls.clear();
  ranOn.clear();
  gate = deferred();
});

/** An orchestrator `a` with no cpu (it runs nothing) and three workers. */
async function room() {
  current = await swarm(['a', 'b', 'c', 'd'], functions, { a: { cpu: 0 } });
  return current;
}

const cpu = { cpu: 1 };

/** Until orchestrator `a` knows `peer` left. */
const gone = (s: SwarmOf, peer: string) =>
  vi.waitFor(() =>
    expect(
      s
        .byId('a')
        .peers()
        .map((p) => p.id),
    ).not.toContain(peer),
  );

/** x made on b, fetched (and so cached) by c for `first`; `second` on d needs x after the gate. */
const cachedOnC = () =>
  new Dag()
    .add({ id: 'x', fn: 'bytes', extraArgs: [50_000], node: 'b' })
    .add({ id: 'first', fn: 'length', args: ['x'], node: 'c' })
    .add({ id: 'w', fn: 'gated', extraArgs: [1], cost: cpu })
    .add({ id: 'second', fn: 'length', args: ['x', 'w'], node: 'd' });

describe('a worker that leaves mid-run', () => {
  it('has results that lived only on it made again from their lineage, two levels deep', async () => {
    const s = await room();
    const dag = new Dag()
      .add({ id: 'x', fn: 'sum', extraArgs: [1], cost: cpu })
      .add({ id: 'y', fn: 'sum', args: ['x'], extraArgs: [10], node: { collocatedWith: 'x' } })
      .add({ id: 'w', fn: 'gated', extraArgs: [100], cost: cpu })
      .add({ id: 'z', fn: 'sum', args: ['y', 'w'], cost: cpu });
    const run = s.byId('a').submit(dag, { maxRetries: 0 });
    const lost: RunEvents['task:lost'][] = [];
    run.on('task:lost', (e) => lost.push(e));
    await vi.waitFor(() => expect(run.status().tasks.y?.state).toBe('done'));
    const holder = run.status().tasks.y?.peer as string;
    await vi.waitFor(async () => expect(await s.byId(holder).store.has(dag.id, 'y')).toBe(true));
    s.hub.vanish(holder);
    await vi.waitFor(() => expect(lost.map((e) => e.taskId).sort()).toEqual(['x', 'y']));
    gate.resolve();
    const { results, allocations } = await run.done;
    expect(results).toEqual({ x: 1, y: 11, w: 100, z: 111 });
    expect(calls.get(`${dag.id}/x`)).toBe(2);
    expect(calls.get(`${dag.id}/y`)).toBe(2);
    expect(allocations.x).not.toBe(holder);
    expect(allocations.y).toBe(allocations.x);
    expect(lost.every((e) => e.peer === holder)).toBe(true);
  });

  it('fails the run with AllocationError when a lost result was pinned to it, not hang', async () => {
    const s = await room();
    const dag = new Dag()
      .add({ id: 'x', fn: 'bytes', extraArgs: [50_000], node: 'b' })
      .add({ id: 'w', fn: 'gated', extraArgs: [1], node: 'c' })
      .add({ id: 'y', fn: 'length', args: ['x', 'w'], cost: cpu });
    const run = s.byId('a').submit(dag);
    await vi.waitFor(() => expect(run.status().tasks.x?.state).toBe('done'));
    s.hub.vanish('b');
    await gone(s, 'b');
    gate.resolve();
    // x must be made again, and only b may make it: after b's grace the run fails, naming both.
    const error = await rejection(run.done);
    expect(error).toBeInstanceOf(AllocationError);
    expect(String(error)).toMatch(/'x'.*pinned to peer b, which is not in the room/);
  }, 30_000);

  it('has a result that another peer cached fetched from there, not made again', async () => {
    const s = await room();
    const dag = cachedOnC();
    const run = s.byId('a').submit(dag);
    const fetches: RunEvents['task:fetched'][] = [];
    run.on('task:fetched', (f) => fetches.push(f));
    await vi.waitFor(() => expect(run.status().tasks.first?.state).toBe('done'));
    s.hub.vanish('b');
    await gone(s, 'b');
    gate.resolve();
    const { results } = await run.done;
    expect(results.second).toBe(50_000);
    expect(calls.get(`${dag.id}/x`)).toBe(1);
    expect(fetches.find((f) => f.taskId === 'second')).toMatchObject({ from: 'c', to: 'd' });
  });

  it('fails over to another holder when it leaves while serving a fetch', async () => {
    const s = await room();
    const dag = cachedOnC();
    const run = s.byId('a').submit(dag);
    await vi.waitFor(() => expect(run.status().tasks.first?.state).toBe('done'));
    // Everything b sends to d from now on takes a minute: d's fetch from b hangs until b leaves.
    s.hub.setDelay((from, to) => (from === 'b' && to === 'd' ? 60_000 : 0));
    const started = vi.fn();
    run.on('task:started', ({ taskId }) => taskId === 'second' && started());
    gate.resolve();
    await vi.waitFor(() => expect(started).toHaveBeenCalled());
    s.hub.vanish('b');
    const { results } = await run.done;
    expect(results.second).toBe(50_000);
    expect(calls.get(`${dag.id}/x`)).toBe(1);
  });

  it('does not use up retries: its tasks go elsewhere and the run succeeds', async () => {
    const s = await room();
    const dag = new Dag();
    for (let i = 0; i < 6; i++) dag.add({ id: `t${i}`, fn: 'gated', extraArgs: [i], cost: cpu });
    const run = s.byId('a').submit(dag, { maxRetries: 0 });
    await vi.waitFor(() =>
      expect(Object.values(run.status().tasks).filter((t) => t.state === 'running')).toHaveLength(
        6,
      ),
    );
    s.hub.vanish('c');
    await gone(s, 'c');
    gate.resolve();
    const { results, allocations } = await run.done;
    expect(Object.values(results)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Object.values(allocations)).not.toContain('c');
    for (const task of Object.values(run.status().tasks)) expect(task.failures).toBe(0);
  });

  it('finishes a run whose sink was reported done but never stored there', async () => {
    // The first peer to store x never confirms the write (its disk hangs), then vanishes.
    let hung = false;
    const s = await swarm(['a', 'b', 'c', 'd'], functions, { a: { cpu: 0 } }, 'r', (id) => {
      const store = createMemoryStore(`memory:${id}`);
      return {
        ...store,
        put: (dagId, dataId, value) => {
          if (dataId !== 'x' || hung) return store.put(dagId, dataId, value);
          hung = true;
          return new Promise<void>(() => undefined);
        },
      };
    });
    current = s;
    const dag = new Dag().add({ id: 'x', fn: 'bytes', extraArgs: [100_000], cost: cpu });
    const run = s.byId('a').submit(dag, { collect: 'none' });
    const finished = deferred<string>();
    run.on('task:finished', ({ peer }) => finished.resolve(peer));
    const peer = await finished.promise;
    s.hub.vanish(peer); // before its store confirmed the write: x is made again elsewhere
    const { allocations } = await run.done;
    expect(allocations.x).not.toBe(peer);
    expect(await s.byId('a').result(dag.id, 'x')).toHaveLength(100_000);
  });
});

describe('a worker cut off from the orchestrator while a peer waits for its value', () => {
  it('has the waiting consumer see a lost input, not a failure, and the run succeeds', async () => {
    const s = await room();
    // y, pinned like its producer, goes to c early and waits there for x, which runs on b.
    const dag = new Dag()
      .add({ id: 'x', fn: 'gated', extraArgs: [1], node: 'b' })
      .add({ id: 'y', fn: 'sum', args: ['x'], extraArgs: [10], node: 'c' });
    const run = s.byId('a').submit(dag, { maxRetries: 0 });
    await vi.waitFor(() => expect(run.status().tasks.x?.state).toBe('running'));
    await vi.waitFor(() => expect(run.status().tasks.y?.state).toBe('placed'));
    // b drops the orchestrator's run, and with it c's wait for x; b is back within its grace.
    s.hub.partition(['a'], ['b']);
    await gone(s, 'b');
    s.hub.heal();
    gate.resolve();
    const { results, allocations } = await run.done;
    expect(results).toEqual({ x: 1, y: 11 });
    expect(allocations).toEqual({ x: 'b', y: 'c' });
    for (const task of Object.values(run.status().tasks)) expect(task.failures).toBe(0);
  });
});

describe('an orchestrator that leaves', () => {
  it('has its workers drop its queued work and keep what they stored', async () => {
    const s = await room();
    const dag = new Dag().add({ id: 'first', fn: 'sum', extraArgs: [5], node: 'b' });
    for (let i = 0; i < 5; i++) dag.add({ id: `h${i}`, fn: 'hang', args: ['first'], node: 'b' });
    const run = s.byId('a').submit(dag);
    run.done.catch(() => undefined);
    await vi.waitFor(() => expect(s.byId('b').load().tasks).toBe(5));
    s.hub.vanish('a');
    await vi.waitFor(() => expect(s.byId('b').load().tasks).toBe(0));
    expect(await s.byId('b').store.get(dag.id, 'first')).toBe(5);
    expect(await s.byId('c').result(dag.id, 'first')).toBe(5);
  });
});

describe('failing tasks', () => {
  it('reject with TaskFailedError carrying the remote message and stack; dependents never start; other runs go on', async () => {
    const s = await room();
    const bad = new Dag()
      .add({ id: 'f', fn: 'boom', cost: cpu })
      .add({ id: 'after', fn: 'sum', args: ['f'], cost: cpu });
    const good = new Dag()
      .add({ id: 'g', fn: 'gated', extraArgs: [2], cost: cpu })
      .add({ id: 'h', fn: 'sum', args: ['g'], extraArgs: [3], cost: cpu });
    const goodRun = s.byId('b').submit(good);
    const error = await rejection(s.byId('a').execute(bad, { maxRetries: 2 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error).toMatchObject({ dagId: bad.id, taskId: 'f', attempts: 3 });
    const failed = error as TaskFailedError;
    expect(['b', 'c', 'd']).toContain(failed.node);
    expect(failed.message).toContain(`boom on ${failed.node}`);
    expect((failed.cause as { remoteStack?: string }).remoteStack).toContain('RangeError');
    expect(calls.get(`${bad.id}/f`)).toBe(3);
    expect(calls.has(`${bad.id}/after`)).toBe(false);
    gate.resolve();
    expect((await goodRun.done).results).toEqual({ g: 2, h: 5 });
  });

  it('time out after the task’s timeout (or the run’s) and are retried like any failure', async () => {
    const s = await room();
    const dag = new Dag().add({ id: 's', fn: 'slowOnce', extraArgs: [9], timeout: 50 });
    const failures: RunEvents['task:failed'][] = [];
    const run = s.byId('a').submit(dag, { maxRetries: 1 });
    run.on('task:failed', (f) => failures.push(f));
    expect((await run.done).results).toEqual({ s: 9 });
    expect(failures).toEqual([expect.objectContaining({ taskId: 's', willRetry: true })]);
    expect(failures[0]?.error).toMatch(/task_timeout.*50 ms/);

    const hang = new Dag().add({ id: 'h', fn: 'hang' });
    const error = await rejection(s.byId('a').execute(hang, { timeout: 30 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).cause).toMatchObject({ remoteCode: 'task_timeout' });
  });
});

describe('cancelling a run', () => {
  it('drops queued tasks, aborts running ones, stores no late result, and leaves other runs alone', async () => {
    const s = await room();
    const long = new Dag();
    for (let i = 0; i < 12; i++) long.add({ id: `g${i}`, fn: 'gated', extraArgs: [i], cost: cpu });
    for (let i = 0; i < 3; i++) long.add({ id: `h${i}`, fn: 'hang', cost: cpu });
    const other = new Dag().add({ id: 'o', fn: 'gated', extraArgs: [1], node: 'd' });
    const controller = new AbortController();
    const run = s.byId('a').submit(long, { signal: controller.signal });
    const otherRun = s.byId('c').submit(other);
    await vi.waitFor(() => expect(calls.size).toBeGreaterThanOrEqual(12 + 1));
    controller.abort('enough');
    const error = await rejection(run.done);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).cause).toBe('enough');
    await vi.waitFor(() => {
      expect([s.byId('b').load().tasks, s.byId('c').load().tasks]).toEqual([0, 0]);
      expect(s.byId('d').load().tasks).toBe(1); // the other run's task
    });
    gate.resolve(); // the gated functions of the cancelled run now return: nothing may be kept
    expect((await otherRun.done).results).toEqual({ o: 1 });
    for (const node of s.nodes) expect(await node.store.keys(long.id)).toEqual([]);
    expect(run.status().state).toBe('cancelled');
  });
});

describe('time-to-live', () => {
  it('removes a run’s data on every peer once its ttl passes, and not before its work ends', async () => {
    const s = await room();
    const kept = new Dag().add({ id: 'k', fn: 'sum', extraArgs: [1], node: 'b' });
    const dag = new Dag()
      .add({ id: 'x', fn: 'sum', extraArgs: [1], node: 'b' })
      .add({ id: 'y', fn: 'length', args: ['x'], node: 'c' })
      .add({ id: 'g', fn: 'gated', extraArgs: [2], node: 'd' });
    await s.byId('a').execute(kept);
    const run = s.byId('a').submit(dag, { ttl: 50, collect: 'none' });
    await vi.waitFor(async () => expect(await s.byId('b').store.has(dag.id, 'x')).toBe(true));
    // d is still working on g long after the ttl: nothing of the DAG may go while it does.
    await new Promise((r) => setTimeout(r, 150));
    expect(await s.byId('b').store.has(dag.id, 'x')).toBe(true);
    gate.resolve();
    await run.done;
    await vi.waitFor(async () => {
      for (const node of s.nodes) expect(await node.dags()).not.toContain(dag.id);
    });
    for (const node of s.nodes)
      expect(await rejection(node.result(dag.id, 'x'))).toBeInstanceOf(UnknownDagError);
    expect(await s.byId('b').result(kept.id, 'k')).toBe(1);
  });

  it('is kept in the store, so a node that comes back enforces it', async () => {
    const { createMemoryStore, createNode } = await import('../../src/index.ts');
    const store = createMemoryStore();
    const first = await createNode({ functions, store, ttl: 60_000 });
    const dag = new Dag().add({ id: 'x', fn: 'sum', extraArgs: [3] });
    await first.execute(dag, { ttl: 80 });
    await first.close();
    expect(await store.keys(dag.id)).toEqual(['x']);
    const again = await createNode({ functions, store });
    expect(await again.dags()).toEqual([dag.id]);
    await vi.waitFor(async () => expect(await again.dags()).toEqual([]));
    expect(await again.storageEstimate()).toMatchObject({ dags: 0, items: 0 });
    await again.close();
  });
});

describe('a layered run of 400 tasks', () => {
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  const layered = {
    seed: (i: number) => {
      spin(1);
      return (i * 7919) % 1_000_003;
    },
    mix: (a: number, b: number) => {
      spin(1);
      return (a * 31 + b) % 1_000_003;
    },
  };
  const build = () => {
    const dag = new Dag();
    for (let i = 0; i < 100; i++) dag.add({ id: `L0_${i}`, fn: 'seed', extraArgs: [i] });
    for (let k = 1; k < 4; k++)
      for (let i = 0; i < 100; i++)
        dag.add({
          id: `L${k}_${i}`,
          fn: 'mix',
          args: [`L${k - 1}_${i}`, `L${k - 1}_${(i + 1) % 100}`],
        });
    return dag;
  };

  it.each(['b', 'c', 'd', 'b', 'c', 'd'])(
    'gives the same results when worker %s vanishes halfway',
    async (victim) => {
      const s = await swarm(['a', 'b', 'c', 'd'], layered);
      current = s;
      const whole = await s.byId('a').execute(build(), { collect: 'sinks' });
      const run = s.byId('a').submit(build(), { collect: 'sinks' });
      let finished = 0;
      run.on('task:finished', () => {
        if (++finished === 200) s.hub.vanish(victim);
      });
      const broken = await run.done;
      expect(broken.results).toEqual(whole.results);
      // Every sink lives on a remaining peer; what nothing needs any more is not made again.
      const sinks = Object.entries(broken.allocations).filter(([id]) => id.startsWith('L3_'));
      expect(sinks.map(([, peer]) => peer)).not.toContain(victim);
    },
  );
});

describe('a result lost again and again', () => {
  it('fails the run with TaskFailedError after a bounded number of remakes, not loop for ever', async () => {
    const s = await room();
    const dag = new Dag()
      .add({ id: 'x', fn: 'sum', extraArgs: [1], cost: cpu })
      .add({ id: 'w', fn: 'gated', extraArgs: [1], node: 'b' })
      .add({ id: 'y', fn: 'sum', args: ['x', 'w'], cost: cpu });
    const run = s.byId('a').submit(dag);
    const lost: string[] = [];
    run.on('task:lost', (e) => lost.push(e.taskId));
    const outcome = rejection(run.done);
    // Each time x is done, its holder drops out of a's sight and comes back: x is lost again.
    for (let i = 0; i < 12 && lost.length <= 8; i++) {
      await vi.waitFor(() => expect(run.status().tasks.x?.state).toBe('done'), 10_000);
      const holder = run.status().tasks.x?.peer as string;
      s.hub.partition(['a'], [holder]);
      await gone(s, holder);
      s.hub.heal();
      await vi.waitFor(
        () =>
          expect(
            s
              .byId('a')
              .peers()
              .map((p) => p.id),
          ).toContain(holder),
        10_000,
      );
    }
    const error = await outcome;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(String(error)).toMatch(/'x'.*its result was lost 9 times/);
    expect(lost.filter((id) => id === 'x')).toHaveLength(9);
  }, 60_000);
});
