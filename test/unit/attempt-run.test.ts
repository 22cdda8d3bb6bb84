import { describe, expect, it } from 'vitest';
import { UnknownFunctionError } from '../../src/errors.ts';
import { LostInputError } from '../../src/runtime/work/arguments.ts';
import { AttemptAbort, failure } from '../../src/runtime/work/attempt-run.ts';

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
