import { describe, expect, it } from 'vitest';
import type { ResultStore } from '../../src/index.ts';
import {
  AllocationError,
  createMemoryStore,
  createNode,
  Dag,
  DagRunningError,
  DataNotFoundError,
  NodeClosedError,
  StorageError,
  UnknownDagError,
} from '../../src/index.ts';
import { arithmetic, deferred, memoryNode, rejection } from './helpers.ts';

function pipeline(id?: string, seed = 1): Dag {
  return new Dag(id)
    .add({ id: 'src', fn: 'identity', extraArgs: [seed] })
    .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] });
}

describe('node results and isolation', () => {
  it('keeps concurrent runs of the same definition apart under different ids', async () => {
    const gate = deferred();
    const node = await memoryNode({
      ...arithmetic,
      gatedIdentity: async (x: number) => {
        await gate.promise;
        return x;
      },
    });
    const make = (seed: number) =>
      new Dag()
        .add({ id: 'src', fn: 'gatedIdentity', extraArgs: [seed] })
        .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] });
    const a = make(1);
    const b = make(5);
    const runs = Promise.all([node.execute(a), node.execute(b)]);
    gate.resolve();
    const [ra, rb] = await runs;
    expect(ra.results).toEqual({ src: 1, dbl: 2 });
    expect(rb.results).toEqual({ src: 5, dbl: 10 });
    expect(await node.result(a.id, 'dbl')).toBe(2);
    expect(await node.result(b.id, 'dbl')).toBe(10);
    expect((await node.dags()).sort()).toEqual([a.id, b.id].sort());
  });

  it('refuses to start a DAG id that is already running, and allows it again afterwards', async () => {
    const gate = deferred();
    const node = await memoryNode({ wait: () => gate.promise.then(() => 1) });
    const dag = new Dag('same').add({ id: 'w', fn: 'wait' });
    const first = node.execute(dag);
    const error = await rejection(node.execute(dag));
    expect(error).toBeInstanceOf(DagRunningError);
    expect(error).toMatchObject({ dagId: 'same', code: 'dag_running' });
    await expect(node.clear('same')).rejects.toBeInstanceOf(DagRunningError);
    gate.resolve();
    await first;
    await expect(node.execute(dag)).resolves.toMatchObject({ results: { w: 1 } });
  });

  it('tells an unknown DAG from a missing item', async () => {
    const node = await memoryNode(arithmetic);
    const { dagId } = await node.execute(pipeline());
    const unknown = await rejection(node.result('no-such-dag', 'src'));
    expect(unknown).toBeInstanceOf(UnknownDagError);
    expect(unknown).toMatchObject({ dagId: 'no-such-dag', code: 'unknown_dag' });
    const missing = await rejection(node.result(dagId, 'nope'));
    expect(missing).toBeInstanceOf(DataNotFoundError);
    expect(missing).toMatchObject({ dagId, dataId: 'nope', code: 'data_not_found' });
  });

  it('clears one DAG and leaves the others', async () => {
    const node = await memoryNode(arithmetic);
    const a = await node.execute(pipeline('a', 1));
    const b = await node.execute(pipeline('b', 3));
    await node.clear(a.dagId);
    await expect(node.result('a', 'dbl')).rejects.toBeInstanceOf(UnknownDagError);
    expect(await node.result(b.dagId, 'dbl')).toBe(6);
    expect(await node.dags()).toEqual(['b']);
  });

  it('refuses a task pinned to another node with AllocationError', async () => {
    const node = await memoryNode(arithmetic, 'me');
    const dag = new Dag().add({ id: 'a', fn: 'identity', node: 'someone-else' });
    const error = await rejection(node.execute(dag));
    expect(error).toBeInstanceOf(AllocationError);
    expect(error).toMatchObject({ taskId: 'a', node: 'someone-else' });
    const here = new Dag()
      .add({ id: 'a', fn: 'identity', node: 'me', extraArgs: [1] })
      .add({ id: 'b', fn: 'identity', args: ['a'], node: { collocatedWith: 'a' } });
    expect((await node.execute(here)).allocations).toEqual({ a: 'me', b: 'me' });
  });

  it('fails the run with StorageError when a result cannot be stored', async () => {
    const broken: ResultStore = {
      ...createMemoryStore(),
      put: (dagId, dataId) => Promise.reject(new StorageError('put', dagId, dataId, 'disk full')),
    };
    const node = await createNode({ functions: arithmetic, store: broken });
    const dag = pipeline();
    const error = await rejection(node.execute(dag));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ dagId: dag.id, operation: 'put', code: 'storage' });
  });

  it('stops running and storing once closed', async () => {
    const gate = deferred();
    const node = await memoryNode({ wait: () => gate.promise });
    const run = node.execute(new Dag().add({ id: 'w', fn: 'wait' }));
    await node.close();
    expect(await rejection(run)).toBeInstanceOf(NodeClosedError);
    await expect(node.execute(pipeline())).rejects.toBeInstanceOf(NodeClosedError);
  });

  it('uses the memory store where there is no IndexedDB', async () => {
    const node = await createNode({ functions: arithmetic });
    expect(node.store.name).toBe(`memory:${node.id}`);
  });
});
