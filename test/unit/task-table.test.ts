import { describe, expect, it } from 'vitest';
import { Dag } from '../../src/dag/index.ts';
import { gather } from '../../src/runtime/run/gather.ts';
import { hold, type Registry } from '../../src/runtime/run/run-plan.ts';
import { type Slot, TaskTable } from '../../src/runtime/run/task-table.ts';

describe('collecting results', () => {
  it('asks the peer that made a result first, whichever holder reported it first', async () => {
    const dag = new Dag('collect-order');
    dag.add({ id: 'payload', fn: 'bytes', node: 'B' });
    dag.add({ id: 'check', fn: 'sum', args: ['payload'], node: 'C' });
    const registry: Registry = { holders: new Map(), bytes: new Map() };
    const table = new TaskTable(dag.validate(), registry, 'all', {
      release: () => {},
      lost: () => {},
    });
    (table.slots.get('payload') as { peer: string | undefined }).peer = 'B';
    (table.slots.get('check') as { peer: string | undefined }).peer = 'C';
    // C's report (it fetched payload) arrived before B's own.
    hold(registry, 'payload', 'C', 10);
    hold(registry, 'check', 'C', 1);
    hold(registry, 'payload', 'B', 10);
    const asked: string[] = [];
    const { results } = await gather(table, async (peer, id) => {
      asked.push(`${id}@${peer}`);
      return `${id} from ${peer}`;
    });
    expect(asked.sort()).toEqual(['check@C', 'payload@B']);
    expect(Object.fromEntries(results)).toEqual({
      payload: 'payload from B',
      check: 'check from C',
    });
  });
});

describe('the task state machine', () => {
  const table = () => {
    const dag = new Dag('states');
    dag.add({ id: 'a', fn: 'f' }).add({ id: 'b', fn: 'f', args: ['a'] });
    const released: string[] = [];
    const t = new TaskTable(dag.validate(), { holders: new Map(), bytes: new Map() }, 'all', {
      release: (peer) => released.push(peer),
      lost: () => {},
    });
    return { t, released, a: t.slots.get('a') as Slot, b: t.slots.get('b') as Slot };
  };

  it('moves a task through its named transitions, keeping the counts', () => {
    const { t, a, b } = table();
    expect([a.state, b.state]).toEqual(['ready', 'waiting']);
    expect(t.takeReady()).toBe(a);
    t.place(a, 'P', false);
    expect([a.state, a.peer, a.attempt, t.inFlight]).toEqual(['placed', 'P', 1, 1]);
    t.start(a);
    t.finish(a);
    expect([a.state, b.state, t.inFlight, t.finished, t.unstored]).toEqual([
      'done',
      'ready',
      0,
      1,
      1,
    ]);
    t.settle(a);
    t.place(b, 'Q', false);
    t.finish(b);
    t.settle(b);
    expect(t.complete).toBe(true);
  });

  it('sends an attempt that will not report back to wait, and refuses a move no rule allows', () => {
    const { t, a, b, released } = table();
    t.place(b, 'P', true); // early: sent before its input exists
    t.requeue(b);
    expect([b.state, t.inFlight, released]).toEqual(['waiting', 0, ['P']]);
    expect(() => t.finish(b)).toThrow('task b cannot go from waiting to done');
    t.place(a, 'P', false);
    t.fail(a);
    expect(() => t.start(a)).toThrow('cannot go from failed to running');
  });
});
