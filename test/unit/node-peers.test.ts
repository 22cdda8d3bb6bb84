import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import {
  createNode,
  createSqliteStore,
  Dag,
  type HandoutNode,
  type RunEvents,
} from '../../src/node/index.ts';
import * as functions from './fixtures/node-tasks.ts';

let coordinator: Coordinator | undefined;
const nodes: HandoutNode[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await coordinator?.close();
  coordinator = undefined;
});

async function peer(id: string, room: string, store = createSqliteStore(':memory:')) {
  const node = await createNode({
    functions,
    coordinator: (coordinator as Coordinator).url,
    room,
    id,
    store,
  });
  nodes.push(node);
  return node;
}

describe('Node.js peers over real WebRTC (node-datachannel) and a real coordinator', () => {
  it('run a DAG whose argument one fetches straight from the other, stored durably', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'handout-node-'));
    const a = await peer('node-a', 'n1');
    const b = await peer('node-b', 'n1', createSqliteStore(join(dir, 'b.db')));
    await vi.waitFor(() => expect(a.peers().map((p) => p.id)).toEqual(['node-b']), {
      timeout: 10_000,
    });
    expect(a.peers()[0]?.capabilities.cpu).toBeGreaterThan(0);
    const dag = new Dag()
      .add({ id: 'payload', fn: 'bytes', extraArgs: [300_000], node: 'node-a' })
      .add({ id: 'sum', fn: 'sumBytes', args: ['payload'], node: 'node-b' })
      .add({ id: 'where', fn: 'runtime', args: ['sum'], node: 'node-b' });
    const run = a.submit(dag, { collect: 'sinks' });
    const fetches: RunEvents['task:fetched'][] = [];
    run.on('task:fetched', (f) => fetches.push(f));
    const { results } = await run.done;
    let expected = 0;
    for (let i = 0; i < 300_000; i++) expected = (expected + (i % 251)) % 1_000_003;
    expect(results.where).toEqual({ x: expected, on: 'node-b', in: 'node' });
    expect(fetches).toEqual([
      expect.objectContaining({ argId: 'payload', from: 'node-a', to: 'node-b', taskId: 'sum' }),
    ]);
    expect((await b.store.keys(dag.id)).sort()).toEqual(['payload', 'sum', 'where']);
    // Its store is a file: a new process would read the same results.
    await b.close();
    const reopened = createSqliteStore(join(dir, 'b.db'));
    expect(await reopened.get(dag.id, 'sum')).toBe(expected);
    await reopened.close();
  });

  it('run a module of functions in worker threads: off the main thread, buffers back, errors typed', async () => {
    const node = await createNode({
      functions: new URL('./fixtures/node-tasks.ts', import.meta.url),
      workers: 2,
    });
    nodes.push(node);
    const dag = new Dag()
      .add({ id: 'a', fn: 'thread', extraArgs: [1] })
      .add({ id: 'b', fn: 'thread', extraArgs: [2] })
      .add({ id: 'big', fn: 'filled', extraArgs: [1 << 20, 0.5] })
      .add({ id: 'sum', fn: 'total', args: ['big'] });
    const { results } = await node.execute(dag);
    const ran = [results.a, results.b, results.sum] as { thread: number }[];
    expect(ran.map((r) => r.thread).filter((t) => t === 0)).toEqual([]);
    expect(results.sum).toMatchObject({ sum: (1 << 20) * 0.5 });
    expect(results.big).toBeInstanceOf(Float64Array);
    expect((results.big as Float64Array).length).toBe(1 << 20);
    // A function that ends its thread fails its task; a fresh thread takes the seat.
    const exiting = new Dag().add({ id: 'e', fn: 'exits' });
    await expect(node.execute(exiting)).rejects.toMatchObject({
      name: 'TaskFailedError',
      message: expect.stringContaining('exited with code 3'),
    });
    expect(((await node.execute(dag)).results.a as { x: number }).x).toBe(1);
    const failing = new Dag().add({ id: 'f', fn: 'fails' });
    await expect(node.execute(failing, { maxRetries: 1 })).rejects.toMatchObject({
      name: 'TaskFailedError',
      taskId: 'f',
      attempts: 2,
      message: expect.stringContaining('failed on purpose'),
    });
  });

  it('take a 40 MiB value in parts, written to the SQLite file as they arrive', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const file = join(mkdtempSync(join(tmpdir(), 'handout-node-')), 'b.db');
    const a = await peer('node-a', 'n3');
    const b = await peer('node-b', 'n3', createSqliteStore(file));
    await vi.waitFor(() => expect(a.peers().map((p) => p.id)).toEqual(['node-b']), {
      timeout: 10_000,
    });
    const dag = new Dag('big-node')
      .add({ id: 'big', fn: 'bigFloats', extraArgs: [40], node: 'node-a' })
      .add({ id: 'check', fn: 'checkFloats', args: ['big'], node: 'node-b' });
    const { results } = await a.submit(dag, { collect: 'sinks' }).done;
    expect(results.check).toEqual({ mib: 40, wrong: 0 });
    // b wrote the five 8 MiB parts under a stamp as they came, and committed it once kept.
    await vi.waitFor(async () => expect(await b.store.has('big-node', 'big')).toBe(true));
    const raw = new Database(file, { readonly: true });
    const count = (sql: string) => raw.prepare(sql).pluck().get();
    expect(count('SELECT count(*) FROM stamps WHERE committed = 1')).toBe(1);
    expect(count('SELECT count(*) FROM stamps WHERE committed = 0')).toBe(0);
    expect(count(`SELECT count(*) FROM parts WHERE item = (SELECT stamp FROM stamps)`)).toBe(5);
    raw.close();
    const back = (await b.store.get('big-node', 'big')) as Float64Array;
    expect(back.length).toBe(40 * 131_072);
    expect(back[back.length - 1]).toBe(back.length - 1);
  }, 30_000); // 3 s here; a laptop three times slower must not be cut

  it('refuse IndexedDB in Node.js with a clear error', async () => {
    await expect(createNode({ functions, store: 'indexeddb' })).rejects.toThrow(
      /no IndexedDB in Node\.js/,
    );
  });

  it.each([
    ['2', '2 worker threads', (thread: number) => thread > 0],
    ['0', 'the main thread', (thread: number) => thread === 0],
  ])(
    'handout-worker --workers %s joins a room, runs tasks on %s, logs them, leaves on Ctrl-C',
    async (workers, where, onThread) => {
      coordinator = await startCoordinator({ port: 0 });
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/node/worker-cli.ts',
          '--coordinator',
          coordinator.url,
          '--room',
          'n2',
          '--functions',
          'test/unit/fixtures/node-tasks.ts',
          '--id',
          'cli-worker',
          '--cpu',
          '3',
          '--workers',
          workers,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      let output = '';
      child.stdout?.on('data', (d) => {
        output += String(d);
      });
      child.stderr?.on('data', (d) => {
        output += String(d);
      });
      const a = await peer('orchestrator', 'n2');
      await vi.waitFor(() => expect(a.peers().map((p) => p.id)).toEqual(['cli-worker']), {
        timeout: 20_000,
      });
      expect(a.peers()[0]?.capabilities.cpu).toBe(3);
      const dag = new Dag()
        .add({ id: 'x', fn: 'identity', extraArgs: [20], node: 'cli-worker' })
        .add({ id: 'y', fn: 'multiply', args: ['x'], extraArgs: [2], node: 'orchestrator' })
        .add({ id: 'z', fn: 'thread', args: ['y'], node: 'cli-worker' });
      const { results } = await a.execute(dag, { collect: 'sinks' });
      const z = results.z as { x: number; on: string; thread: number };
      expect(z).toMatchObject({ x: 40, on: 'cli-worker' });
      const bad = new Dag().add({ id: 'bad', fn: 'fails', node: 'cli-worker' });
      await expect(a.execute(bad, { maxRetries: 0 })).rejects.toMatchObject({
        name: 'TaskFailedError',
        taskId: 'bad',
      });
      expect(onThread(z.thread), `ran on thread ${z.thread}`).toBe(true);
      expect(output).toContain(`functions on ${where}`);
      await vi.waitFor(() => expect(output).toMatch(new RegExp(`ran +${dag.id}/z \\(thread\\)`)));
      // The worker's log reaches us through a pipe, after the run's outcome: wait for it.
      await vi.waitFor(() =>
        expect(output).toMatch(
          new RegExp(`FAIL ${bad.id}/bad \\(fails\\) after [0-9.]+ ms: failed on purpose`),
        ),
      );
      expect(output).toMatch(new RegExp(`ran +${dag.id}/x \\(identity\\)`));
      const left = new Promise<string>((resolve) => a.on('peer:leave', (p) => resolve(p.id)));
      const exited = new Promise<number | null>((resolve) =>
        child.on('close', (code) => resolve(code)),
      );
      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(await left).toBe('cli-worker');
      expect(output).toContain('leaving the room');
      expect(output).not.toContain('coordinator lost');
    },
  );
});
