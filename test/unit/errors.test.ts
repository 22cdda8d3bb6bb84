import { describe, expect, it } from 'vitest';
import * as handout from '../../src/index.ts';

const samples: [string, handout.HandoutError][] = [
  ['DagValidationError', new handout.DagValidationError('cycle', 'a', 'm', ['a', 'a'])],
  ['TaskFailedError', new handout.TaskFailedError('d', 't', 'n', 2, new Error('x'))],
  ['UnknownFunctionError', new handout.UnknownFunctionError('f', 't', 'n')],
  ['UnknownDagError', new handout.UnknownDagError('d')],
  ['DataNotFoundError', new handout.DataNotFoundError('d', 'x')],
  ['StorageError', new handout.StorageError('put', 'd', 'x', new Error('quota'))],
  ['DagRunningError', new handout.DagRunningError('d')],
  ['AllocationError', new handout.AllocationError('t', 'n', 'why')],
  ['CancelledError', new handout.CancelledError('d')],
  ['NodeClosedError', new handout.NodeClosedError('n')],
  ['TaskTimeoutError', new handout.TaskTimeoutError('t', 5)],
  ['PeerGoneError', new handout.PeerGoneError('p', 'left')],
];

describe('errors', () => {
  it.each(samples)('%s is a HandoutError with a spelled-out name and a code', (name, error) => {
    expect(error).toBeInstanceOf(handout.HandoutError);
    expect(error).toBeInstanceOf(Error);
    // The name is a literal, so minified bundles still print it.
    expect(error.name).toBe(name);
    expect(error.code).toMatch(/^[a-z_]+$/);
    expect(String(error)).toContain(name);
  });

  it('keeps the cause and names everything in the message', () => {
    const cause = new RangeError('bad');
    const error = new handout.TaskFailedError('dag-1', 'task-1', 'node-1', 3, cause);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('dag-1');
    expect(error.message).toContain('task-1');
    expect(error.message).toContain('node-1');
    expect(error.message).toContain('3 attempt');
    expect(error.message).toContain('RangeError: bad');
  });
});
