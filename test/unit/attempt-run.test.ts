import { describe, expect, it } from 'vitest';
import { normalizeTask } from '../../src/dag/task.ts';
import { UnknownFunctionError } from '../../src/errors.ts';
import type { TaskOrder } from '../../src/runtime/base/messages.ts';
import { type ArgumentPorts, LostInputError } from '../../src/runtime/work/arguments.ts';
import {
  AttemptAbort,
  type AttemptHost,
  failure,
  type Job,
  runAttempt,
} from '../../src/runtime/work/attempt-run.ts';

describe('AttemptAbort', () => {
  it('makes its signal only when asked, aborted already if the attempt was', () => {
    const abort = new AttemptAbort();
    const seen: unknown[] = [];
    abort.onAbort(() => seen.push('callback'));
    abort.abort('stop');
    abort.abort('again'); // once only
    expect(seen).toEqual(['callback']);
    expect(abort.aborted).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe('stop');
  });

  it('aborts a signal handed out before, and a cleared callback is not called', () => {
    const abort = new AttemptAbort();
    const { signal } = abort;
    const seen: string[] = [];
    abort.onAbort(() => seen.push('no'));
    abort.onAbort(undefined);
    abort.abort(new Error('cancelled'));
    expect(signal.aborted).toBe(true);
    expect(seen).toEqual([]);
  });
});

describe('failure reports', () => {
  it('tell a missing function (not retried) from a lost input (with what was lost)', () => {
    const missing = failure(new UnknownFunctionError('nope', 't', 'peer'));
    expect(missing).toMatchObject({ kind: 'failed', retryable: false });
    const lost = failure(
      new LostInputError({ argId: 'a', holders: ['p'] }, new Error('peer p is gone')),
    );
    expect(lost).toMatchObject({
      kind: 'failed',
      retryable: true,
      lost: { argId: 'a', holders: ['p'] },
      error: { message: 'peer p is gone' },
    });
  });
});

describe('runAttempt', () => {
  /** Runs one attempt of a task with no arguments; resolves with the kinds of reports sent. */
  async function reportsOf(fn: () => unknown): Promise<string[]> {
    const kinds: string[] = [];
    const order: TaskOrder = {
      dagId: 'd',
      epoch: 0,
      attempt: 1,
      task: normalizeTask({ id: 't', fn: 'f' }),
      inline: [],
      locations: {},
      early: false,
    };
    const ended = new Promise<void>((resolve) => {
      const host = {
        id: 'me',
        functions: { f: fn },
        argumentPorts: {} as ArgumentPorts, // a task without arguments asks nothing of them
        ended: () => false,
        ran: () => undefined,
        keep: () => Promise.resolve(),
        report: (_job: Job, fields: { kind: string }) => {
          kinds.push(fields.kind);
          if (fields.kind === 'stored' || fields.kind === 'failed') resolve();
        },
        finished: () => undefined,
      } satisfies AttemptHost;
      runAttempt(host, { from: 'o', order, cost: {} }, new AttemptAbort());
    });
    await ended;
    return kinds;
  }

  it('reports no start for a task that succeeds in the turn it starts (its done says so)', async () => {
    expect(await reportsOf(() => 1)).toEqual(['done', 'stored']);
  });

  it('reports the start of a task that fails in the turn it starts, before its failure', async () => {
    // Its orchestrator tells `task:started` then `task:failed`, as a node alone does.
    expect(
      await reportsOf(() => {
        throw new Error('no');
      }),
    ).toEqual(['started', 'failed']);
  });

  it('reports a start for a task that waits for its promise, before its end', async () => {
    expect(await reportsOf(async () => 1)).toEqual(['started', 'done', 'stored']);
    expect(await reportsOf(() => Promise.reject(new Error('no')))).toEqual(['started', 'failed']);
  });
});
