import { describe, expect, it } from 'vitest';
import { Dag } from '../../src/dag/index.ts';
import { hold, type Registry } from '../../src/runtime/run-plan.ts';
import { TaskTable } from '../../src/runtime/task-table.ts';

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
    const { results } = await table.gather(async (peer, id) => {
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
