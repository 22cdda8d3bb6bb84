import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  Dag,
  type EdgeContext,
  type TaskContext,
  TaskFailedError,
  UnknownFunctionError,
  withContext,
} from '../../src/index.ts';
import { arithmetic, deferred, memoryNode, rejection } from './helpers.ts';

describe('execute on one node', () => {
  it('runs the README example', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag();
    dag.add({ id: 'src', fn: 'identity', extraArgs: [42] });
    dag.add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] });
    dag.add({ id: 'out', fn: 'format', args: ['dbl'] });
    const { dagId, results, allocations } = await node.execute(dag, {
      maxRetries: 3,
      maxConcurrency: 4,
    });
    expect(dagId).toBe(dag.id);
    expect(results).toEqual({ src: 42, dbl: 84, out: 'value: 84' });
    expect(allocations).toEqual({ src: node.id, dbl: node.id, out: node.id });
    expect(await node.result(dagId, 'dbl')).toBe(84);
  });

  it('passes producers in order, then extraArgs', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag()
      .add({ id: 'a', fn: 'identity', extraArgs: ['A'] })
      .add({ id: 'b', fn: 'identity', extraArgs: ['B'] })
      .add({ id: 'l', fn: 'list', args: ['b', 'a', 'b'], extraArgs: [1, [2]] });
    const { results } = await node.execute(dag);
    expect(results.l).toEqual(['B', 'A', 'B', 1, [2]]);
  });

  it('passes producers as one array with argsAsList', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag()
      .add({ id: 'a', fn: 'identity', extraArgs: [1] })
      .add({ id: 'b', fn: 'identity', extraArgs: [2] })
      .add({ id: 'l', fn: 'list', args: ['a', 'b'], extraArgs: ['x'], argsAsList: true });
    const { results } = await node.execute(dag);
    expect(results.l).toEqual([[1, 2], 'x']);
  });

  it('awaits async functions and stores undefined results', async () => {
    const node = await memoryNode({
      later: async (x: number) => x + 1,
      nothing: () => undefined,
    });
    const dag = new Dag()
      .add({ id: 'a', fn: 'later', extraArgs: [1] })
      .add({ id: 'n', fn: 'nothing' });
    const { results } = await node.execute(dag);
    expect(results).toEqual({ a: 2, n: undefined });
    expect('n' in results).toBe(true);
    expect(await node.result(dag.id, 'n')).toBeUndefined();
  });

  it('evaluates an inline task once per consumer and never stores it', async () => {
    let calls = 0;
    const node = await memoryNode({
      ...arithmetic,
      counted: (x: number) => {
        calls++;
        return x * 10;
      },
    });
    const dag = new Dag()
      .add({ id: 'src', fn: 'identity', extraArgs: [2] })
      .add({ id: 'inl', fn: 'counted', args: ['src'], inline: true })
      .add({ id: 'c1', fn: 'add', args: ['inl', 'inl'] })
      .add({ id: 'c2', fn: 'add', args: ['inl', 'src'] });
    const { results, allocations } = await node.execute(dag);
    expect(results).toEqual({ src: 2, c1: 40, c2: 22 });
    expect(allocations).not.toHaveProperty('inl');
    expect(calls).toBe(2);
    expect(await node.store.keys(dag.id)).not.toContain('inl');
  });

  it('runs serialize on the producer side and deserialize on the consumer side with both node ids', async () => {
    const seen: { hook: string; value: unknown; ctx: EdgeContext }[] = [];
    const node = await memoryNode({
      ...arithmetic,
      toText: (value: unknown, ctx: EdgeContext) => {
        seen.push({ hook: 'serialize', value, ctx });
        return JSON.stringify(value);
      },
      fromText: async (value: unknown, ctx: EdgeContext) => {
        seen.push({ hook: 'deserialize', value, ctx });
        return JSON.parse(value as string);
      },
    });
    const dag = new Dag().add({ id: 'p', fn: 'identity', extraArgs: [{ n: 7 }] }).add({
      id: 'c',
      fn: 'identity',
      args: [{ from: 'p', serialize: 'toText', deserialize: 'fromText' }],
    });
    const { results } = await node.execute(dag);
    expect(results.c).toEqual({ n: 7 });
    expect(seen.map((s) => [s.hook, s.value])).toEqual([
      ['serialize', { n: 7 }],
      ['deserialize', '{"n":7}'],
    ]);
    for (const { ctx } of seen) {
      expect(ctx).toMatchObject({
        dagId: dag.id,
        producerTaskId: 'p',
        consumerTaskId: 'c',
        producer: node.id,
        consumer: node.id,
      });
    }
  });

  it('gives withContext functions their context and plain functions only their args', async () => {
    const contexts: TaskContext[] = [];
    let plainArgs: unknown[] = [];
    const node = await memoryNode({
      ctx: withContext((ctx, x: number) => {
        contexts.push(ctx);
        return x;
      }),
      plain: (...xs: unknown[]) => {
        plainArgs = xs;
        return xs.length;
      },
    });
    const dag = new Dag('ctx-dag')
      .add({ id: 'a', fn: 'ctx', extraArgs: [5] })
      .add({ id: 'b', fn: 'plain', args: ['a'], extraArgs: ['e'] });
    await node.execute(dag);
    expect(plainArgs).toEqual([5, 'e']);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]).toMatchObject({
      dagId: 'ctx-dag',
      taskId: 'a',
      nodeId: node.id,
      attempt: 1,
    });
    expect(contexts[0]?.signal).toBeInstanceOf(AbortSignal);
  });
});

describe('scheduling', () => {
  it('never runs more than maxConcurrency tasks at once', async () => {
    let running = 0;
    let peak = 0;
    const gates = Array.from({ length: 10 }, () => deferred());
    const started: number[] = [];
    const node = await memoryNode({
      gated: async (i: number) => {
        running++;
        peak = Math.max(peak, running);
        started.push(i);
        await gates[i]?.promise;
        running--;
        return i;
      },
    });
    const dag = new Dag();
    for (let i = 0; i < 10; i++) dag.add({ id: `t${i}`, fn: 'gated', extraArgs: [i] });
    const run = node.execute(dag, { maxConcurrency: 3 });
    await Promise.resolve();
    expect(started).toHaveLength(3);
    for (const gate of gates) {
      gate.resolve();
      await new Promise((r) => setImmediate(r));
    }
    const { results } = await run;
    expect(peak).toBe(3);
    expect(Object.keys(results)).toHaveLength(10);
  });

  it('starts a dependent only after every producer finished', async () => {
    const events: string[] = [];
    const gate = deferred();
    const node = await memoryNode({
      slow: async () => {
        events.push('slow:start');
        await gate.promise;
        events.push('slow:end');
        return 1;
      },
      fast: () => {
        events.push('fast');
        return 2;
      },
      join: (a: number, b: number) => {
        events.push('join');
        return a + b;
      },
    });
    const dag = new Dag()
      .add({ id: 's', fn: 'slow' })
      .add({ id: 'f', fn: 'fast' })
      .add({ id: 'j', fn: 'join', args: ['s', 'f'] });
    const run = node.execute(dag);
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['slow:start', 'fast']);
    gate.resolve();
    expect((await run).results.j).toBe(3);
    expect(events).toEqual(['slow:start', 'fast', 'slow:end', 'join']);
  });
});

describe('failures', () => {
  it('retries up to maxRetries and then succeeds', async () => {
    let attempts = 0;
    const node = await memoryNode({
      flaky: withContext((ctx) => {
        attempts++;
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        return ctx.attempt;
      }),
    });
    const dag = new Dag().add({ id: 'f', fn: 'flaky' });
    const { results } = await node.execute(dag, { maxRetries: 2 });
    expect(results.f).toBe(3);
    expect(attempts).toBe(3);
  });

  it('lets a task override the run maxRetries', async () => {
    let attempts = 0;
    const node = await memoryNode({
      ...arithmetic,
      fails: () => {
        attempts++;
        throw new TypeError('always');
      },
    });
    const dag = new Dag()
      .add({ id: 'f', fn: 'fails', maxRetries: 1 })
      .add({ id: 'after', fn: 'identity', args: ['f'] });
    const error = await rejection(node.execute(dag, { maxRetries: 5 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    const failed = error as TaskFailedError;
    expect(failed).toMatchObject({
      dagId: dag.id,
      taskId: 'f',
      node: node.id,
      attempts: 2,
      code: 'task_failed',
    });
    expect(failed.cause).toBeInstanceOf(TypeError);
    expect(failed.message).toContain('TypeError: always');
    expect(attempts).toBe(2);
  });

  it('starts no dependent of a failed task, cancels queued work and aborts running work', async () => {
    const started: string[] = [];
    let abortedSignal: AbortSignal | undefined;
    const node = await memoryNode({
      ...arithmetic,
      fails: async () => {
        throw new Error('no');
      },
      long: withContext(async (ctx) => {
        started.push(ctx.taskId);
        abortedSignal = ctx.signal;
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        return 'late';
      }),
      record: withContext((ctx) => {
        started.push(ctx.taskId);
        return 1;
      }),
    });
    const dag = new Dag()
      .add({ id: 'bad', fn: 'fails' })
      .add({ id: 'child', fn: 'record', args: ['bad'] })
      .add({ id: 'long', fn: 'long' })
      .add({ id: 'queued', fn: 'record' });
    const error = await rejection(node.execute(dag, { maxConcurrency: 2 }));
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(started).toEqual(['long']);
    expect(abortedSignal?.aborted).toBe(true);
    await new Promise((r) => setImmediate(r));
    // The long task's late result is discarded, not stored.
    expect(await node.store.keys(dag.id)).toEqual([]);
  });

  it('refuses an unknown function before anything runs', async () => {
    let ran = false;
    const node = await memoryNode({
      ok: () => {
        ran = true;
      },
    });
    const dag = new Dag().add({ id: 'a', fn: 'ok' }).add({ id: 'b', fn: 'missing', args: ['a'] });
    const error = await rejection(node.execute(dag));
    expect(error).toBeInstanceOf(UnknownFunctionError);
    expect(error).toMatchObject({ fn: 'missing', taskId: 'b', code: 'unknown_function' });
    expect(ran).toBe(false);
  });

  it('does not treat inherited object properties as registered functions', async () => {
    const node = await memoryNode({});
    const error = await rejection(node.execute(new Dag().add({ id: 'a', fn: 'toString' })));
    expect(error).toBeInstanceOf(UnknownFunctionError);
  });

  it('refuses an unknown serialize hook', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag()
      .add({ id: 'a', fn: 'identity' })
      .add({ id: 'b', fn: 'identity', args: [{ from: 'a', deserialize: 'nope' }] });
    expect(await rejection(node.execute(dag))).toMatchObject({ fn: 'nope', taskId: 'b' });
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const gate = deferred();
    const node = await memoryNode({
      wait: async () => {
        await gate.promise;
        return 1;
      },
    });
    const dag = new Dag().add({ id: 'w', fn: 'wait' });
    const run = node.execute(dag, { signal: controller.signal });
    controller.abort('user said stop');
    const error = await rejection(run);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).cause).toBe('user said stop');
    gate.resolve();
    await new Promise((r) => setImmediate(r));
    expect(await node.store.keys(dag.id)).toEqual([]);
  });

  it('refuses a run whose signal is already aborted', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag().add({ id: 'a', fn: 'identity' });
    const error = await rejection(node.execute(dag, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(CancelledError);
  });

  it('rejects bad run options with a RangeError', async () => {
    const node = await memoryNode(arithmetic);
    const dag = new Dag().add({ id: 'a', fn: 'identity' });
    await expect(node.execute(dag, { maxConcurrency: 0 })).rejects.toThrow(RangeError);
    await expect(node.execute(dag, { maxRetries: -2 })).rejects.toThrow(RangeError);
  });
});

describe('scale', () => {
  it('runs 20,000 synchronous tasks in a chain and in a fan-out without deepening the stack', async () => {
    const node = await memoryNode(arithmetic);
    const chain = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [0] });
    for (let i = 1; i < 20_000; i++) {
      chain.add({ id: `t${i}`, fn: 'add', args: [`t${i - 1}`], extraArgs: [1] });
    }
    expect((await node.execute(chain)).results.t19999).toBe(19_999);

    const fan = new Dag().add({ id: 'src', fn: 'identity', extraArgs: [1] });
    const leaves = Array.from({ length: 20_000 }, (_, i) => `l${i}`);
    for (const id of leaves) fan.add({ id, fn: 'identity', args: ['src'] });
    fan.add({ id: 'sink', fn: 'add', args: leaves });
    expect((await node.execute(fan, { maxConcurrency: 64 })).results.sink).toBe(20_000);
  });
});
