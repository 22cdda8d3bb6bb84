// Pipelines (`node.stream`): ordering, backpressure, init once per hosting peer, error items and
// retries, batching, several inputs, stop, on a lone node and across a room over the in-memory
// transport, where a stage whose peer leaves is placed again and its items run again.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  Dag,
  DagValidationError,
  type HandoutNode,
  PipelineClosedError,
  StageInitError,
  type StreamItem,
  TaskFailedError,
  UnknownFunctionError,
  withContext,
} from '../../src/index.ts';
import { deferred, memoryNode, rejection } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

/** init calls, by stage and node. */
let inits: string[] = [];
const gates = new Map<number, Promise<void>>();
const functions = {
  table: withContext((ctx) => {
    inits.push(`${ctx.taskId}@${ctx.nodeId}`);
    return { offset: 1000 };
  }),
  badInit: () => {
    throw new Error('no model');
  },
  lookup: withContext((ctx, x: number) => x + (ctx.state as { offset: number }).offset),
  double: (x: number) => x * 2,
  where: withContext((ctx, x: number) => ({ x, at: ctx.nodeId })),
  slowDouble: async (x: number) => {
    await new Promise((r) => setTimeout(r, 1 + (x % 3)));
    return x * 2;
  },
  gated: async (x: number) => {
    await gates.get(x);
    return x;
  },
  oddFails: (x: number) => {
    if (x % 2 === 1) throw new Error(`odd ${x}`);
    return x;
  },
  flaky: withContext((ctx, x: number) => {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    return x;
  }),
  sumBatch: (xs: number[]) => xs.map((x) => x + 1),
  shortBatch: (xs: number[]) => xs.slice(1),
  pair: (a: number, b: string) => `${b}${a}`,
};

/** input -> a (lookup, init) -> b (double) -> c (where), each optionally pinned. */
function threeStages(pins: (string | undefined)[] = []): Dag {
  return new Dag()
    .add({ id: 'in', input: true })
    .add({ id: 'a', fn: 'lookup', args: ['in'], init: 'table', node: pins[0] })
    .add({ id: 'b', fn: 'slowDouble', args: ['a'], parallelism: 4, node: pins[1] })
    .add({ id: 'c', fn: 'where', args: ['b'], node: pins[2] });
}

async function collect(pipeline: AsyncIterable<StreamItem>, count: number): Promise<StreamItem[]> {
  const out: StreamItem[] = [];
  for await (const item of pipeline) {
    out.push(item);
    if (out.length === count) break;
  }
  return out;
}

let node: HandoutNode | undefined;
let current: SwarmOf | undefined;
afterEach(async () => {
  await node?.close();
  await current?.close();
  node = undefined;
  current = undefined;
  inits = [];
  gates.clear();
});

describe('a pipeline on a lone node', () => {
  it('runs items through three stages in push order, init once, ctx.state given', async () => {
    node = await memoryNode(functions, 'solo');
    const pipeline = node.stream(threeStages());
    const reading = collect(pipeline, 200);
    for (let i = 0; i < 200; i++) expect(await pipeline.push(i)).toBe(i);
    const out = await reading;
    expect(out.map((o) => o.id)).toEqual([...Array(200).keys()]);
    expect(out.map((o) => o.value)).toEqual(
      [...Array(200).keys()].map((i) => ({ x: (i + 1000) * 2, at: 'solo' })),
    );
    expect(inits).toEqual(['a@solo']);
    expect(pipeline.stats()).toMatchObject({ state: 'stopped', pushed: 200, done: 200, failed: 0 });
    await expect(pipeline.push(1)).rejects.toBeInstanceOf(PipelineClosedError);
  });

  it('makes push wait at maxInFlight, and a signal gives up the wait', async () => {
    node = await memoryNode(functions);
    const open = deferred();
    gates.set(0, open.promise);
    const pipeline = node.stream(
      new Dag().add({ id: 'in', input: true }).add({ id: 's', fn: 'gated', args: ['in'] }),
      { maxInFlight: 3 },
    );
    for (let i = 0; i < 3; i++) await pipeline.push(i);
    let fourth = false;
    const waiting = pipeline.push(3).then((id) => {
      fourth = true;
      return id;
    });
    const controller = new AbortController();
    const given = pipeline.push(99, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(fourth).toBe(false);
    expect(pipeline.stats().inFlight).toBe(3);
    controller.abort(new Error('gave up'));
    expect(((await rejection(given)) as Error).message).toBe('gave up');
    open.resolve();
    expect(await waiting).toBe(3);
    expect((await collect(pipeline, 4)).map((o) => o.value)).toEqual([0, 1, 2, 3]);
  });

  it('gives a failing item as an error item, retries per item, and goes on', async () => {
    node = await memoryNode(functions);
    const odd = node.stream(
      new Dag().add({ id: 'in', input: true }).add({ id: 's', fn: 'oddFails', args: ['in'] }),
    );
    const reading = collect(odd, 5);
    for (let i = 0; i < 5; i++) await odd.push(i);
    const out = await reading;
    expect(out.map((o) => o.value)).toEqual([0, undefined, 2, undefined, 4]);
    expect(out[1]?.error).toBeInstanceOf(TaskFailedError);
    expect(out[1]?.error?.message).toContain('odd 1');
    expect(odd.stats()).toMatchObject({ done: 3, failed: 2 });

    const flaky = node.stream(
      new Dag().add({ id: 'in', input: true }).add({ id: 's', fn: 'flaky', args: ['in'] }),
      { maxRetries: 1 },
    );
    const again = collect(flaky, 3);
    for (let i = 0; i < 3; i++) await flaky.push(i);
    expect((await again).map((o) => o.value)).toEqual([0, 1, 2]);
    expect(flaky.stats().stages.s).toMatchObject({ done: 3, failed: 3 });
  });

  it('hands a batching stage arrays, and fails a batch whose answer is the wrong length', async () => {
    node = await memoryNode(functions);
    const calls: number[] = [];
    const batched = await memoryNode({
      ...functions,
      sumBatch: (xs: number[]) => {
        calls.push(xs.length);
        return xs.map((x) => x + 1);
      },
    });
    const pipeline = batched.stream(
      new Dag()
        .add({ id: 'in', input: true })
        .add({ id: 's', fn: 'sumBatch', args: ['in'], batchSize: 4, batchTimeout: 10 }),
    );
    const reading = collect(pipeline, 10);
    for (let i = 0; i < 10; i++) await pipeline.push(i);
    expect((await reading).map((o) => o.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(calls).toEqual([4, 4, 2]); // two full batches, then the rest after the timeout
    await batched.close();

    const short = node.stream(
      new Dag()
        .add({ id: 'in', input: true })
        .add({ id: 's', fn: 'shortBatch', args: ['in'], batchSize: 2 }),
    );
    const out = collect(short, 2);
    await short.push(1);
    await short.push(2);
    for (const item of await out) expect(item.error?.message).toContain('must return an array');
  });

  it('takes several inputs as an object, and says which is missing', async () => {
    node = await memoryNode(functions);
    const pipeline = node.stream(
      new Dag()
        .add({ id: 'n', input: true })
        .add({ id: 'label', input: true })
        .add({ id: 's', fn: 'pair', args: ['n', 'label'] }),
    );
    const reading = collect(pipeline, 2);
    await pipeline.push({ n: 1, label: 'x' });
    await pipeline.push({ n: 2, label: 'y' });
    expect((await reading).map((o) => o.value)).toEqual(['x1', 'y2']);
    const missing = await rejection(
      node
        .stream(threeStages())
        .push(1)
        .then(() => pipeline.push({ n: 3 })),
    );
    expect(missing).toBeInstanceOf(TypeError);
    expect((missing as Error).message).toContain('missing label');
  });

  it('fails with StageInitError when init throws, and refuses wrong DAGs at once', async () => {
    node = await memoryNode(functions, 'solo');
    const broken = node.stream(
      new Dag()
        .add({ id: 'in', input: true })
        .add({ id: 's', fn: 'double', args: ['in'], init: 'badInit' }),
    );
    const error = await rejection(broken.ready);
    expect(error).toBeInstanceOf(StageInitError);
    expect(error).toMatchObject({ stageId: 's', node: 'solo' });
    expect((error as Error).message).toContain('no model');
    await expect(broken.push(1)).rejects.toBeInstanceOf(PipelineClosedError);
    await expect(broken.results().next()).rejects.toBeInstanceOf(StageInitError);

    const withInput = new Dag()
      .add({ id: 'in', input: true })
      .add({ id: 's', fn: 'double', args: ['in'] });
    await expect(node.execute(withInput)).rejects.toBeInstanceOf(DagValidationError);
    // The pipeline's shape and options are checked where its engine loads: ready rejects.
    const noInput = node.stream(new Dag().add({ id: 's', fn: 'double', extraArgs: [1] }));
    await expect(noInput.ready).rejects.toBeInstanceOf(DagValidationError);
    await expect(noInput.push(1)).rejects.toBeInstanceOf(DagValidationError);
    await noInput.stop(); // nothing to stop: it resolves
    await expect(node.stream(withInput, { maxInFlight: 0 }).ready).rejects.toBeInstanceOf(
      RangeError,
    );
    expect(() =>
      node?.stream(
        new Dag().add({ id: 'in', input: true }).add({ id: 's', fn: 'nope', args: ['in'] }),
      ),
    ).toThrow(UnknownFunctionError);
    expect(() => new Dag().add({ id: 'in', input: true, fn: 'double' } as never)).toThrow(
      DagValidationError,
    );
  });

  it('drains on stop({ drain: true }), and stops on a for await that breaks', async () => {
    node = await memoryNode(functions);
    const pipeline = node.stream(threeStages());
    for (let i = 0; i < 10; i++) await pipeline.push(i);
    const stopped = pipeline.stop({ drain: true });
    await expect(pipeline.push(10)).rejects.toBeInstanceOf(PipelineClosedError);
    await stopped;
    const out: StreamItem[] = [];
    for await (const item of pipeline) out.push(item);
    expect(out.map((o) => o.id)).toEqual([...Array(10).keys()]);

    const broken = node.stream(threeStages());
    for (let i = 0; i < 5; i++) await broken.push(i);
    for await (const item of broken) if (item.id === 1) break;
    expect(broken.stats().state).toBe('stopped');
  });
});

describe('a pipeline across a room', () => {
  it('runs pinned stages on their peers, init once per hosting peer, items in order', async () => {
    current = await swarm(['a', 'b', 'c'], functions);
    const pipeline = current.byId('a').stream(threeStages(['b', 'c', 'a']));
    await pipeline.ready;
    const reading = collect(pipeline, 300);
    for (let i = 0; i < 300; i++) await pipeline.push(i);
    const out = await reading;
    expect(out[0]?.error).toBeUndefined();
    expect(out.map((o) => o.value)).toEqual(
      [...Array(300).keys()].map((i) => ({ x: (i + 1000) * 2, at: 'a' })),
    );
    expect(inits).toEqual(['a@b']);
  });

  it('places a stage again when its peer leaves; every item comes out once, in order', async () => {
    current = await swarm(['a', 'b', 'c'], functions);
    // The caller's allocator: stage a on b while b is there, else on c.
    const asked: string[][] = [];
    const pipeline = current.byId('a').stream(threeStages(), {
      maxInFlight: 16,
      allocation: (tasks, peers) => {
        asked.push(tasks.map((t) => t.id));
        const aOn = peers.some((p) => p.id === 'b') ? 'b' : 'c';
        return Object.fromEntries(tasks.map((t) => [t.id, t.id === 'a' ? aOn : 'a']));
      },
    });
    await pipeline.ready;
    expect(pipeline.stats().stages.a?.peer).toBe('b');
    expect(asked).toEqual([['a', 'b', 'c']]); // inputs are not placed
    const reading = collect(pipeline, 400);
    for (let i = 0; i < 400; i++) {
      await pipeline.push(i);
      if (i === 150) current.hub.vanish('b');
    }
    const out = await reading;
    expect(out.map((o) => o.id)).toEqual([...Array(400).keys()]);
    expect(out.filter((o) => o.error !== undefined)).toEqual([]);
    expect(out.map((o) => (o.value as { x: number }).x)).toEqual(
      [...Array(400).keys()].map((i) => (i + 1000) * 2),
    );
    expect(inits).toEqual(['a@b', 'a@c']);
    expect(asked[1]).toEqual(['a']);
  });

  it('retries an item on its remote peer, gives error items, and keeps push order', async () => {
    current = await swarm(['a', 'b'], functions);
    const pipeline = current.byId('a').stream(
      new Dag()
        .add({ id: 'in', input: true })
        .add({ id: 'slow', fn: 'slowDouble', args: ['in'], node: 'b', parallelism: 8 })
        .add({ id: 'flaky', fn: 'flaky', args: ['slow'], node: 'b' })
        .add({ id: 'odd', fn: 'oddFails', args: ['in'], node: 'b' })
        .add({ id: 'both', fn: 'pair', args: ['flaky', 'odd'], node: 'a' }),
      { maxRetries: 1 },
    );
    const reading = collect(pipeline, 60);
    for (let i = 0; i < 60; i++) await pipeline.push(i);
    const out = await reading;
    expect(out.map((o) => o.id)).toEqual([...Array(60).keys()]);
    for (const o of out) {
      if (o.id % 2 === 0) expect(o.value).toBe(`${o.id}${o.id * 2}`);
      else expect(o.error).toMatchObject({ name: 'TaskFailedError', taskId: 'odd', attempts: 2 });
    }
    // Odd items failed twice each at `odd`; every even item failed once at `flaky` and ran
    // again there (odd items may have ended before their `flaky` call came back).
    const { flaky, odd } = pipeline.stats().stages;
    expect(odd).toMatchObject({ done: 30, failed: 60 });
    expect(flaky?.done).toBeGreaterThanOrEqual(30);
    expect(flaky?.failed).toBeGreaterThanOrEqual(30);
  });

  it("holds its stages' cost on their peer while it runs, for every orchestrator", async () => {
    current = await swarm(['a', 'b'], functions, { a: { cpu: 4 }, b: { cpu: 4, gpu: 1 } });
    const [a, b] = [current.byId('a'), current.byId('b')];
    const pipeline = a.stream(
      new Dag()
        .add({ id: 'in', input: true })
        .add({ id: 'g', fn: 'double', args: ['in'], cost: { gpu: 1 } }),
    );
    await pipeline.ready;
    expect(pipeline.stats().stages.g?.peer).toBe('b');
    expect(b.load().used).toEqual({ gpu: 1 });
    // A run from b itself needing the gpu waits while the stage holds it.
    const run = b.execute(
      new Dag().add({ id: 'x', fn: 'double', extraArgs: [21], cost: { gpu: 1 } }),
    );
    let ran = false;
    void run.then(() => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(false);
    await pipeline.stop();
    expect((await run).results).toEqual({ x: 42 });
    await vi.waitFor(() => expect(b.load().used).toEqual({ gpu: 0 }));
  });

  it('frees the stages on every peer when the orchestrator closes', async () => {
    current = await swarm(['a', 'b'], functions);
    const pipeline = current.byId('a').stream(threeStages(['b', 'b', 'b']));
    await pipeline.ready;
    const b = current.byId('b');
    const hostedOnB = () =>
      (
        b as unknown as {
          cluster: { streams: { hosted(): Record<string, string[]> } };
        }
      ).cluster.streams.hosted();
    expect(Object.values(hostedOnB()).map((stages) => stages.sort())).toEqual([['a', 'b', 'c']]);
    await current.byId('a').close();
    await expect(pipeline.push(1)).rejects.toBeInstanceOf(PipelineClosedError);
    await vi.waitFor(() => expect(hostedOnB()).toEqual({}));
  });
});
