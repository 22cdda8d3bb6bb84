import { describe, expect, it } from 'vitest';
import type { TaskReport } from '../../src/runtime/base/messages.ts';
import { type Batch, Outbox } from '../../src/runtime/outbox.ts';

const key = { dagId: 'd', taskId: 't', attempt: 1 };
const done: TaskReport = { ...key, kind: 'done', bytes: 1, hasValue: true, value: 1, fetched: [] };

/** Resolves after a few turns of the event loop: every batch due by then has gone. */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('Outbox', () => {
  it('sends one batch for a task that starts and finishes in one turn, and no empty one after', async () => {
    const sent: [string, Batch][] = [];
    const outbox = new Outbox((peer, batch) => sent.push([peer, batch]));
    outbox.report('o', { ...key, kind: 'started' });
    outbox.report('o', done);
    await turns();
    expect(sent).toEqual([['o', { orders: [], reports: [done], over: [] }]]);
  });

  it('lets what a turn answers at once (a waiting fetch) go before its reports', async () => {
    const order: string[] = [];
    const outbox = new Outbox(() => order.push('report'));
    outbox.report('o', done);
    // The answer to a waiting fetch leaves a few promise steps after the value is kept.
    void Promise.resolve()
      .then(() => undefined)
      .then(() => undefined)
      .then(() => order.push('answer'));
    await turns();
    expect(order).toEqual(['answer', 'report']);
  });

  it('gathers what several turns made lazily into one batch per peer', async () => {
    const sent: [string, Batch][] = [];
    const outbox = new Outbox((peer, batch) => sent.push([peer, batch]));
    outbox.report('o', { ...key, taskId: 'a', kind: 'stored' });
    outbox.report('o', { ...key, taskId: 'b', kind: 'stored' });
    outbox.over('o', { dagId: 'd', epoch: 1 });
    await turns();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[1].reports.map((r) => r.taskId)).toEqual(['a', 'b']);
    expect(sent[0]?.[1].over).toEqual([{ dagId: 'd', epoch: 1 }]);
  });

  it("sends a failed attempt's start before its failure, in one batch", async () => {
    const sent: [string, Batch][] = [];
    const outbox = new Outbox((peer, batch) => sent.push([peer, batch]));
    const other = { ...key, taskId: 'u', kind: 'started' } as const;
    const failed: TaskReport = {
      ...key,
      kind: 'failed',
      error: { code: 'Error', message: 'no' },
      retryable: true,
    };
    outbox.report('o', other);
    outbox.report('o', { ...key, kind: 'started' });
    outbox.report('o', failed);
    await turns();
    const reports = sent.flatMap(([, batch]) => batch.reports);
    expect(reports.map((r) => `${r.taskId} ${r.kind}`)).toEqual([
      't started',
      't failed',
      'u started',
    ]);
    expect(sent[0]?.[1].reports.slice(0, 2)).toEqual([{ ...key, kind: 'started' }, failed]);
  });
});
