import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dag, type DroppedMessage, UnknownDagError } from '../../src/index.ts';
import { Rpc } from '../../src/net/rpc.ts';
import { Method } from '../../src/runtime/base/calls.ts';
import { Topic } from '../../src/runtime/base/messages.ts';
import { arithmetic, rejection } from './helpers.ts';
import { type SwarmOf, swarm } from './swarm-helpers.ts';

let current: SwarmOf | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const functions = {
  ...arithmetic,
  slowAdd: async (a: number, b: number) => {
    await new Promise((r) => setTimeout(r, 5));
    return a + b;
  },
};

function chain(seed: number, length: number): Dag {
  const dag = new Dag().add({ id: 't0', fn: 'identity', extraArgs: [seed] });
  for (let i = 1; i < length; i++)
    dag.add({ id: `t${i}`, fn: 'slowAdd', args: [`t${i - 1}`], extraArgs: [1] });
  return dag;
}

describe('a rogue peer in the room (it passed the handshake)', () => {
  it('cannot crash, disturb or fool honest runs with junk, spoofed reports, cancels or made-up ids', async () => {
    const s = await swarm(['a', 'b', 'c'], functions);
    current = s;
    const rogue = new Rpc(await s.hub.join({ id: 'r', room: 'r', heartbeatMs: 50 }), 2000);
    await vi.waitFor(() =>
      expect(
        s
          .byId('a')
          .peers()
          .map((p) => p.id),
      ).toContain('r'),
    );
    const drops: DroppedMessage[] = [];
    for (const node of s.nodes) node.on('dropped', (d) => drops.push(d));

    const honest = [chain(100, 30), chain(200, 30)];
    const runs = honest.map((dag, i) => s.byId(i ? 'b' : 'a').submit(dag));
    const ids = honest.map((d) => d.id);
    const junk: unknown[] = [
      null,
      42,
      'tasks',
      [1, 2, 3],
      { dagId: 5 },
      [{ dagId: ids[0], attempt: -1, task: {}, inline: [], locations: {} }],
      [{ dagId: 'x', attempt: 1, task: { id: 't', fn: 'identity' }, inline: 'no', locations: {} }],
      // A well-formed order but for its count of tries.
      {
        orders: [
          {
            dagId: 'x',
            epoch: 0,
            attempt: 1,
            tries: 'two',
            task: { id: 't', fn: 'identity' },
            inline: [],
            locations: {},
          },
        ],
      },
      Array.from({ length: 5 }, () => ({ deep: { deeper: [{ deepest: new Uint8Array(8) }] } })),
    ];
    let sent = 0;
    for (const peer of ['a', 'b', 'c']) {
      for (const body of junk) {
        for (const topic of Object.values(Topic)) {
          await rogue.notify(peer, topic, body);
          sent++;
        }
      }
      // Orders naming functions nobody registered: refused as failed tasks, reported to the rogue.
      await rogue.notify(peer, Topic.batch, {
        orders: [
          {
            dagId: 'rogue-dag',
            epoch: 0,
            attempt: 1,
            task: { id: 'x', fn: 'eval', extraArgs: ['alert(1)'] },
            inline: [],
            locations: {},
          },
        ],
      });
      // Spoofed reports for honest runs: a wrong value for a real task, as if done.
      for (const dagId of ids) {
        await rogue.notify(peer, Topic.batch, {
          reports: [
            {
              dagId,
              taskId: 't29',
              attempt: 1,
              kind: 'done',
              bytes: 1,
              hasValue: true,
              value: -1,
              fetched: [],
            },
          ],
        });
        await rogue.notify(peer, Topic.batch, { over: [{ dagId, epoch: 0 }] });
      }
      // Made-up ids get typed answers, never a hang or another DAG's data.
      const answer = await rejection(
        rogue.request(peer, Method.get, { dagId: 'made-up', dataId: 't0' }),
      );
      expect(answer).toMatchObject({ remoteCode: 'unknown_dag' });
      const odd = await rejection(rogue.request(peer, Method.get, { dagId: ['x'] }));
      expect(odd).toMatchObject({ code: 'remote_error' });
    }

    const results = await Promise.all(runs.map((r) => r.done));
    expect(results[0]?.results.t29).toBe(129);
    expect(results[1]?.results.t29).toBe(229);
    expect(Object.values(results[0]?.allocations ?? {})).not.toContain('r');
    // Every malformed body was dropped and reported; spoofed reports are ignored quietly; a
    // cancel of a run a peer works for, not from its orchestrator, is refused and reported.
    expect(drops.filter((d) => d.reason === 'malformed').length).toBe(sent);
    expect(drops.filter((d) => d.reason !== 'malformed').map((d) => d.reason)).not.toContain(
      'malformed',
    );
    expect(
      drops.every((d) => d.from === 'r' && ['malformed', 'unauthorized'].includes(d.reason)),
    ).toBe(true);
    await expect(s.byId('c').result('made-up', 't0')).rejects.toBeInstanceOf(UnknownDagError);
    rogue.close();
  });
});
