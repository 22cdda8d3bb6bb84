// One dagId, one truth across the room: re-runs never see an earlier run's values, only a run's
// orchestrator may clear or cancel it, and status and results answer from any peer.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CancelledError,
  Dag,
  DagRunningError,
  type DroppedMessage,
  RequestTimeoutError,
  UnknownDagError,
} from '../../src/index.ts';
import { arithmetic, type Deferred, deferred, rejection } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

const gates = new Map<string, Deferred<void>>();
const functions = {
  ...arithmetic,
  /** Waits until the test opens gate `name`, then returns `x`. */
  gated: async (name: string, x: unknown) => {
    const gate = gates.get(name) ?? deferred<void>();
    gates.set(name, gate);
    await gate.promise;
    return x;
  },
};

let current: SwarmOf | undefined;
afterEach(async () => {
  for (const gate of gates.values()) gate.resolve();
  gates.clear();
  await current?.close();
  current = undefined;
});

async function three(): Promise<SwarmOf> {
  current = await swarm(['a', 'b', 'c'], functions);
  return current;
}

const daily = (x: number, xOn: string) =>
  new Dag('daily')
    .add({ id: 'x', fn: 'identity', extraArgs: [x], node: xOn })
    .add({ id: 'y', fn: 'multiply', args: ['x'], extraArgs: [10], node: 'c' });

describe('re-running a named DAG', () => {
  it('gives the new values everywhere: results, every cache and store, result() from any node', async () => {
    const { byId, nodes } = await three();
    expect((await byId('a').execute(daily(1, 'b'))).results).toEqual({ x: 1, y: 10 });
    // c fetched x from b and keeps it; the re-run makes x on a instead.
    expect(await byId('c').store.get('daily', 'x')).toBe(1);
    expect((await byId('a').execute(daily(2, 'a'))).results).toEqual({ x: 2, y: 20 });
    for (const node of nodes) {
      expect(await node.result('daily', 'x')).toBe(2);
      expect(await node.result('daily', 'y')).toBe(20);
    }
    expect(await byId('c').store.get('daily', 'x')).toBe(2);
    // b's x of the first run is gone: b heard of the new run when it was asked to claim it.
    expect(await byId('b').store.keys('daily')).not.toContain('x');
  });

  it('a peer that was away during the re-run never passes its old value off as the new one', async () => {
    const { byId, hub } = await three();
    await byId('a').execute(daily(1, 'b'));
    hub.partition(['b'], ['a', 'c']); // b is away...
    await vi.waitFor(
      () =>
        expect(
          byId('a')
            .peers()
            .map((p) => p.id),
        ).toEqual(['c']),
      {
        timeout: 3000,
      },
    );
    await byId('a').execute(daily(2, 'a'));
    hub.heal(); // ...and back, still holding x = 1
    await vi.waitFor(() => expect(byId('b').peers()).toHaveLength(2), { timeout: 5000 });
    expect(await byId('b').store.get('daily', 'x')).toBe(1);
    expect(await byId('b').result('daily', 'x')).toBe(2);
    expect(await byId('c').result('daily', 'x')).toBe(2);
  });

  it('a peer that was away during a clear never gives its copy back as a result', async () => {
    const { byId, hub } = await three();
    await byId('a').execute(daily(1, 'b'));
    hub.partition(['b'], ['a', 'c']); // b is away...
    await vi.waitFor(() => expect(byId('a').peers()).toHaveLength(1), { timeout: 3000 });
    await byId('a').clear('daily');
    hub.heal(); // ...and back, still holding x = 1 and y = 10
    await vi.waitFor(() => expect(byId('b').peers()).toHaveLength(2), { timeout: 5000 });
    expect(await byId('b').store.get('daily', 'x')).toBe(1);
    for (const id of ['a', 'b', 'c'])
      expect(await rejection(byId(id).result('daily', 'x'))).toBeInstanceOf(UnknownDagError);
    // A later run is a run like any other, on every peer.
    expect((await byId('c').execute(daily(3, 'b'))).results).toEqual({ x: 3, y: 30 });
    expect(await byId('a').result('daily', 'x')).toBe(3);
  });

  it("a re-run whose order comes after the last run's ttl ran out on its worker finishes", async () => {
    const { byId, hub } = await three();
    const raced = (x: number) =>
      new Dag('raced').add({ id: 'x', fn: 'identity', extraArgs: [x], node: 'b' });
    // Every message takes 100 ms. b's ttl starts when it hears a run is over; the next run's
    // epoch is picked two deliveries on (b's answer to the claim), its order comes three on.
    // What b marks when its ttl runs out in between must stay below that epoch. Several ttls,
    // as where that instant falls depends on the machine.
    hub.setDelay(() => 100);
    let x = 0;
    for (const ttl of [150, 200, 250, 300, 350, 400]) {
      x++;
      expect((await byId('a').execute(raced(x), { ttl })).results).toEqual({ x });
    }
    expect((await byId('a').execute(raced(0))).results).toEqual({ x: 0 });
    hub.setDelay(() => 0);
  });

  it('with the same Dag object run twice (a generated id), the second run is a re-run', async () => {
    const { byId } = await three();
    const dag = new Dag()
      .add({ id: 'x', fn: 'identity', extraArgs: [5], node: 'b' })
      .add({ id: 'y', fn: 'add', args: ['x'], extraArgs: [1], node: 'c' });
    const first = await byId('a').execute(dag);
    const second = await byId('b').execute(dag);
    expect(first.results).toEqual(second.results);
    expect(await byId('a').result(dag.id, 'y')).toBe(6);
  });

  it('two orchestrators starting one dagId at once: one runs, the other gets DagRunningError', async () => {
    const { byId } = await three();
    const make = (v: number) => new Dag('once').add({ id: 'x', fn: 'identity', extraArgs: [v] });
    const settled = await Promise.allSettled([
      byId('a').execute(make(1)),
      byId('b').execute(make(2)),
    ]);
    const ok = settled.filter((o) => o.status === 'fulfilled');
    const refused = settled.filter((o) => o.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(DagRunningError);
    const value = (ok[0] as PromiseFulfilledResult<{ results: Record<string, unknown> }>).value
      .results.x;
    expect(await byId('c').result('once', 'x')).toBe(value);
  });

  it('a DAG running on one peer cannot be started again from another', async () => {
    const { byId } = await three();
    const run = byId('a').submit(
      new Dag('busy').add({ id: 'x', fn: 'gated', extraArgs: ['busy', 1] }),
    );
    await vi.waitFor(() => expect(gates.has('busy')).toBe(true));
    const again = byId('b').execute(
      new Dag('busy').add({ id: 'x', fn: 'identity', extraArgs: [2] }),
    );
    expect(await rejection(again)).toBeInstanceOf(DagRunningError);
    gates.get('busy')?.resolve();
    expect((await run.done).results).toEqual({ x: 1 });
  });
});

describe('authority over a running DAG', () => {
  it('clear from another peer is refused while the run goes on, and the run finishes', async () => {
    const { byId, nodes } = await three();
    const dag = new Dag('held')
      .add({ id: 'p', fn: 'gated', extraArgs: ['held', 3], node: 'b' })
      .add({ id: 'q', fn: 'multiply', args: ['p'], extraArgs: [2], node: 'c' });
    const run = byId('a').submit(dag);
    await vi.waitFor(() => expect(gates.has('held')).toBe(true));
    expect(await rejection(byId('b').clear('held'))).toBeInstanceOf(DagRunningError);
    expect(await rejection(byId('c').clear('held'))).toBeInstanceOf(DagRunningError);
    gates.get('held')?.resolve();
    expect((await run.done).results).toEqual({ p: 3, q: 6 });
    // Over: now anyone may clear it, everywhere.
    await byId('b').clear('held');
    for (const node of nodes) expect(await node.store.keys('held')).toEqual([]);
    expect(await rejection(byId('a').result('held', 'q'))).toBeInstanceOf(UnknownDagError);
  });

  it('a worker refuses a clear of a live run that does not come from its orchestrator', async () => {
    const { byId, hub } = await three();
    const drops: DroppedMessage[] = [];
    byId('b').on('dropped', (d) => drops.push(d));
    const run = byId('a').submit(
      new Dag('guarded').add({ id: 'p', fn: 'gated', extraArgs: ['guarded', 1], node: 'b' }),
    );
    await vi.waitFor(() => expect(gates.has('guarded')).toBe(true));
    // c asks b directly, skipping the room check a node makes first.
    const { Rpc } = await import('../../src/net/rpc.ts');
    const { Method } = await import('../../src/runtime/base/calls.ts');
    const rogue = new Rpc(await hub.join({ id: 'z', room: 'r', heartbeatMs: 50 }), 2000);
    await vi.waitFor(() =>
      expect(
        byId('b')
          .peers()
          .map((p) => p.id),
      ).toContain('z'),
    );
    const refused = await rejection(rogue.request('b', Method.clear, { dagId: 'guarded' }));
    expect(refused).toMatchObject({ remoteCode: 'dag_running' });
    expect(drops).toContainEqual(expect.objectContaining({ from: 'z', reason: 'unauthorized' }));
    gates.get('guarded')?.resolve();
    expect((await run.done).results).toEqual({ p: 1 });
    rogue.close();
  });

  it('cancel from its orchestrator stops the run; the handle rejects with CancelledError', async () => {
    const { byId } = await three();
    const run = byId('a').submit(
      new Dag('stop').add({ id: 'p', fn: 'gated', extraArgs: ['stop', 1], node: 'b' }),
    );
    await vi.waitFor(() => expect(gates.has('stop')).toBe(true));
    run.cancel('enough');
    expect(await rejection(run.done)).toBeInstanceOf(CancelledError);
  });
});

describe('status and results from anywhere', () => {
  it('status answers from every peer, UnknownDagError for an id nobody ran', async () => {
    const { byId, nodes } = await three();
    await byId('a').execute(daily(4, 'b'));
    for (const node of nodes) {
      expect(await node.status('daily')).toMatchObject({
        dagId: 'daily',
        state: 'done',
        tasks: { x: { state: 'done', peer: 'b' }, y: { state: 'done', peer: 'c' } },
      });
    }
    expect(await rejection(byId('b').status('nobody-ran-this'))).toBeInstanceOf(UnknownDagError);
  });

  it('status of a running DAG, asked from a worker, says running', async () => {
    const { byId } = await three();
    const run = byId('a').submit(
      new Dag('live').add({ id: 'p', fn: 'gated', extraArgs: ['live', 1], node: 'b' }),
    );
    await vi.waitFor(() => expect(gates.has('live')).toBe(true));
    expect(await byId('c').status('live')).toMatchObject({ state: 'running' });
    gates.get('live')?.resolve();
    await run.done;
    expect(await byId('c').status('live')).toMatchObject({ state: 'done' });
  });

  it('result takes a deadline', async () => {
    const { byId, hub } = await three();
    await byId('a').execute(daily(1, 'b'));
    hub.setDelay(() => 400);
    const late = byId('c').result('daily', 'x', { timeout: 100 });
    expect(await rejection(late)).toBeInstanceOf(RequestTimeoutError);
    hub.setDelay(() => 0);
    await expect(byId('a').result('daily', 'x', { timeout: -1 })).rejects.toThrow(RangeError);
  });
});

describe('no run waits forever on a peer that is there', () => {
  it('an order lost on the way is asked after and sent again', async () => {
    const { byId, hub } = await three();
    // A link that works, then a cut long enough to lose the order on it, too short to lose b.
    await byId('a').execute(new Dag().add({ id: 'q', fn: 'identity', extraArgs: [1], node: 'b' }));
    hub.partition(['a'], ['b']);
    const run = byId('a').submit(
      new Dag().add({ id: 'p', fn: 'identity', extraArgs: [9], node: 'b' }),
    );
    await new Promise((r) => setTimeout(r, 60));
    hub.heal();
    const failures: string[] = [];
    run.on('task:failed', (f) => failures.push(f.error));
    const started = Date.now();
    expect((await run.done).results).toEqual({ p: 9 });
    expect(failures).toEqual([expect.stringContaining('peer b no longer has the task')]);
    // The sweep asks after attempts silent for 10 s.
    expect(Date.now() - started).toBeGreaterThan(5000);
  }, 30_000);

  it('a worker whose link to the orchestrator dropped and came back takes the run again', async () => {
    const { byId, hub } = await three();
    const left = new Promise<void>((resolve) => byId('b').on('peer:leave', () => resolve()));
    const run = byId('a').submit(
      new Dag().add({ id: 'p', fn: 'gated', extraArgs: ['flap', 4], node: 'b' }),
    );
    await vi.waitFor(() => expect(gates.has('flap')).toBe(true));
    hub.partition(['a'], ['b']); // the link drops (both see the other leave), the room still lists both
    await left;
    hub.heal();
    gates.get('flap')?.resolve(); // the attempt it stopped ends; the order sent again must run
    expect((await run.done).results).toEqual({ p: 4 });
  }, 30_000);
});
