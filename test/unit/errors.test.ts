import { describe, expect, it } from 'vitest';
import { MissingPackageError } from '../../src/errors.ts';
import * as handout from '../../src/index.ts';
import { missingPackage } from '../../src/missing-package.ts';

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

  it('turns a failed import of a missing optional package into MissingPackageError, naming its npm i', async () => {
    const missing = Object.assign(new Error("Cannot find package 'ws'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const error = await Promise.reject(missing)
      .catch(missingPackage(['node-datachannel', 'ws'], 'a Node.js node joining a room'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPackageError);
    expect(error).toBeInstanceOf(handout.HandoutError);
    expect(error).toMatchObject({
      code: 'missing_package',
      name: 'MissingPackageError',
      install: 'npm i node-datachannel ws',
      cause: missing,
    });
    expect((error as Error).message).toContain('run npm i node-datachannel ws');
    // Any other failure of the import is not a missing package: it goes through as it is.
    const other = new SyntaxError('bad module');
    await expect(Promise.reject(other).catch(missingPackage(['ws'], 'x'))).rejects.toBe(other);
  });
});
