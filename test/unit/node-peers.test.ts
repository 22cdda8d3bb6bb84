import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import {
  createNode,
  createSqliteStore,
  Dag,
  type HandoutNode,
  type RunEvents,
} from '../../src/node/index.ts';
import * as functions from '../browser/pages/functions.ts';

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

  it('handout-worker joins a room, runs and logs tasks, and leaves cleanly on Ctrl-C', async () => {
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
        'test/browser/pages/functions.ts',
        '--id',
        'cli-worker',
        '--cpu',
        '3',
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
      .add({ id: 'z', fn: 'runtime', args: ['y'], node: 'cli-worker' });
    const { results } = await a.execute(dag, { collect: 'sinks' });
    expect(results.z).toEqual({ x: 40, on: 'cli-worker', in: 'node' });
    await vi.waitFor(() => expect(output).toMatch(new RegExp(`ran +${dag.id}/z \\(runtime\\)`)));
    expect(output).toMatch(new RegExp(`ran +${dag.id}/x \\(identity\\)`));
    const left = new Promise<string>((resolve) => a.on('peer:leave', (p) => resolve(p.id)));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await left).toBe('cli-worker');
    expect(output).toContain('leaving the room');
  });
});
