import { describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createNode,
  Dag,
  DataNotFoundError,
  type FunctionRegistry,
  type HandoutNode,
  type RunHandle,
  TaskFailedError,
  UnknownDagError,
  withContext,
} from '../../src/index.ts';
import { MemoryHub } from '../../src/testing/memory.ts';
import { rejection } from './helpers.ts';

/** Functions whose `flaky` fails its first `failures` calls. */
function functions(failures: number): FunctionRegistry {
  let calls = 0;
  return {
    seed: () => 2,
    flaky: (x: number) => {
      calls++;
      if (calls <= failures) throw new Error(`call ${calls} fails`);
      return x * 10;
    },
    sum: (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
  };
}

const alone = (fns: FunctionRegistry): Promise<HandoutNode> =>
  createNode({ id: 'solo', functions: fns, store: createMemoryStore() });

async function roomOfOne(fns: FunctionRegistry): Promise<HandoutNode> {
  const transport = await new MemoryHub().join({ id: 'solo', room: 'r' });
  return createNode({ functions: fns, store: createMemoryStore(), transport });
}

function diamond(): Dag {
  return new Dag('diamond')
    .add({ id: 'a', fn: 'seed' })
    .add({ id: 'b', fn: 'flaky', args: ['a'] })
    .add({ id: 'c', fn: 'seed' })
    .add({ id: 'd', fn: 'sum', args: ['b', 'c'] });
}

/**
 * Every event of the run, task by task, in the order each task saw them. A room hands a failure
 * back as a `RemoteError` (it may come from any peer): its message names the peer first.
 */
function trace(handle: RunHandle): Map<string, string[]> {
  const byTask = new Map<string, string[]>();
  const note = (taskId: string, line: string) =>
    byTask.set(taskId, [...(byTask.get(taskId) ?? []), line]);
  for (const name of ['task:placed', 'task:started', 'task:finished'] as const)
    handle.on(name, (e) => note(e.taskId, `${name} ${e.peer}`));
  handle.on('task:failed', (e) =>
    note(
      e.taskId,
      `task:failed ${e.peer} ${e.error.replace(/^peer \S+ answered with Error: /, '')} retry=${e.willRetry}`,
    ),
  );
  return byTask;
}

describe('one engine: a node alone runs as a room of one', () => {
  it('tells the same events, retries the same way, and ends with the same result and status', async () => {
    const seen = [];
    for (const make of [alone, roomOfOne]) {
      const node = await make(functions(1));
      const handle = node.submit(diamond(), { maxRetries: 1 });
      const events = trace(handle);
      const result = await handle.done;
      seen.push({ events, result, status: await node.status('diamond') });
      await node.close();
    }
    const [lone, room] = seen;
    expect(lone?.result).toEqual({
      dagId: 'diamond',
      results: { a: 2, b: 20, c: 2, d: 22 },
      allocations: { a: 'solo', b: 'solo', c: 'solo', d: 'solo' },
    });
    expect(lone?.events.get('b')).toEqual([
      'task:placed solo',
      'task:started solo',
      'task:failed solo call 1 fails retry=true',
      'task:placed solo',
      'task:started solo',
      'task:finished solo',
    ]);
    expect(room?.result).toEqual(lone?.result);
    // A room may send a consumer ahead of its inputs and call it back when one fails: placed twice.
    const once = (lines: string[]) => lines.filter((line, i) => line !== lines[i - 1]);
    const roomEvents = new Map([...(room?.events ?? [])].map(([id, lines]) => [id, once(lines)]));
    expect(roomEvents).toEqual(lone?.events);
    expect(room?.status).toEqual(lone?.status);
  });

  it('fails the same way once retries run out: TaskFailedError with the cause and attempts', async () => {
    const failures = [];
    for (const make of [alone, roomOfOne]) {
      const node = await make(functions(5));
      const handle = node.submit(diamond(), { maxRetries: 2 });
      const events = trace(handle);
      const error = await rejection(handle.done);
      expect(error).toBeInstanceOf(TaskFailedError);
      failures.push({
        cause: String((error as TaskFailedError).cause).replace(
          /^RemoteError: peer \S+ answered with /,
          '',
        ),
        attempts: (error as TaskFailedError).attempts,
        events: events.get('b'),
        state: (await node.status('diamond')).tasks.b?.state,
      });
      await node.close();
    }
    expect(failures[0]?.events?.filter((e) => e.startsWith('task:failed'))).toEqual([
      'task:failed solo call 1 fails retry=true',
      'task:failed solo call 2 fails retry=true',
      'task:failed solo call 3 fails retry=false',
    ]);
    expect(failures[0]?.state).toBe('failed');
    expect(failures[0]?.cause).toBe('Error: call 3 fails');
    expect(failures[0]?.attempts).toBe(3);
    expect(failures[1]).toEqual(failures[0]);
  });

  it('tells task:ran for every attempt it ran, alone as in a room', async () => {
    const ran = [];
    for (const make of [alone, roomOfOne]) {
      const sums: number[] = []; // ctx.attempt, as d's function saw it
      const node = await make({
        ...functions(1),
        sum: withContext((ctx, ...xs: number[]) => {
          sums.push(ctx.attempt);
          return xs.reduce((s, x) => s + x, 0);
        }),
      });
      const lines: string[] = [];
      node.on('task:ran', (e) => {
        lines.push(`${e.dagId} ${e.taskId} ${e.fn} ${e.error ?? 'ok'} ${e.ms >= 0} ${e.attempt}`);
      });
      await node.execute(diamond(), { maxRetries: 1 });
      ran.push([...lines.sort(), `ctx.attempt of d: ${sums.join(', ')}`]);
      await node.close();
    }
    expect(ran[0]).toEqual([
      'diamond a seed ok true 1',
      'diamond b flaky call 1 fails true 1',
      'diamond b flaky ok true 2',
      'diamond c seed ok true 1',
      'diamond d sum ok true 1',
      'ctx.attempt of d: 1',
    ]);
    // The room sent d ahead of b and called it back when b failed: still d's first attempt.
    expect(ran[1]).toEqual(ran[0]);
  });

  it('keeps the status of its last 1,000 runs, not of every run it ever made', async () => {
    const node = await alone(functions(0));
    for (let i = 0; i <= 1000; i++)
      await node.execute(new Dag(`run-${i}`).add({ id: 'a', fn: 'seed' }));
    expect((await node.status('run-1000')).state).toBe('done');
    expect((await node.status('run-1')).tasks.a?.state).toBe('done');
    // The oldest run's status is gone; its result is still in the store, and the DAG known.
    await expect(node.status('run-0')).rejects.toBeInstanceOf(UnknownDagError);
    expect(await node.result('run-0', 'a')).toBe(2);
    await expect(node.result('run-0', 'b')).rejects.toBeInstanceOf(DataNotFoundError);
    await node.close();
  });
});
