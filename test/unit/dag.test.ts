import { describe, expect, it } from 'vitest';
import { Dag, DagValidationError, HandoutError, type TaskSpec } from '../../src/index.ts';

function validationError(fn: () => unknown): DagValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DagValidationError);
    expect(error).toBeInstanceOf(HandoutError);
    return error as DagValidationError;
  }
  throw new Error('expected a DagValidationError');
}

function dagOf(...specs: TaskSpec[]): Dag {
  const dag = new Dag('d');
  for (const spec of specs) dag.add(spec);
  return dag;
}

describe('Dag ids', () => {
  it('generates a UUID per DAG unless one is given', () => {
    const a = new Dag();
    const b = new Dag();
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
    expect(new Dag('mine').id).toBe('mine');
  });

  it('refuses an empty DAG id', () => {
    expect(validationError(() => new Dag('')).kind).toBe('invalid_task');
  });
});

describe('Dag.add', () => {
  it('refuses a duplicate task id at once, naming it', () => {
    const dag = dagOf({ id: 'a', fn: 'f' });
    const error = validationError(() => dag.add({ id: 'a', fn: 'g' }));
    expect(error.kind).toBe('duplicate_task');
    expect(error.taskId).toBe('a');
    expect(error.code).toBe('dag_validation');
    expect(dag.size).toBe(1);
  });

  it.each([
    ['an empty id', { id: '', fn: 'f' }],
    ['a numeric id', { id: 7, fn: 'f' }],
    ['a missing fn', { id: 'a' }],
    ['an empty fn', { id: 'a', fn: '' }],
    ['args that are not an array', { id: 'a', fn: 'f', args: 'b' }],
    ['an empty arg id', { id: 'a', fn: 'f', args: [''] }],
    ['an arg object without from', { id: 'a', fn: 'f', args: [{ serialize: 's' }] }],
    ['a non-string hook', { id: 'a', fn: 'f', args: [{ from: 'b', serialize: 3 }] }],
    ['extraArgs that are not an array', { id: 'a', fn: 'f', extraArgs: 1 }],
    ['a negative maxRetries', { id: 'a', fn: 'f', maxRetries: -1 }],
    ['a fractional maxRetries', { id: 'a', fn: 'f', maxRetries: 1.5 }],
    ['a negative cost', { id: 'a', fn: 'f', cost: { cpu: -1 } }],
    ['a NaN cost', { id: 'a', fn: 'f', cost: { cpu: Number.NaN } }],
    ['an inline task with a node', { id: 'a', fn: 'f', inline: true, node: 'n1' }],
    ['a non-boolean inline', { id: 'a', fn: 'f', inline: 'yes' }],
    ['a malformed node', { id: 'a', fn: 'f', node: { near: 'b' } }],
    ['collocation with itself', { id: 'a', fn: 'f', node: { collocatedWith: 'a' } }],
  ])('refuses %s as invalid_task', (_, spec) => {
    const error = validationError(() => new Dag().add(spec as unknown as TaskSpec));
    expect(error.kind).toBe('invalid_task');
  });
});

describe('Dag.validate', () => {
  it('reports a missing dependency, naming the task that needs it', () => {
    const dag = dagOf({ id: 'a', fn: 'f' }, { id: 'b', fn: 'f', args: ['a', 'ghost'] });
    const error = validationError(() => dag.validate());
    expect(error.kind).toBe('missing_dependency');
    expect(error.taskId).toBe('b');
    expect(error.message).toContain('ghost');
  });

  it('reports a cycle with its whole path', () => {
    const dag = dagOf(
      { id: 'start', fn: 'f' },
      { id: 'a', fn: 'f', args: ['start', 'c'] },
      { id: 'b', fn: 'f', args: ['a'] },
      { id: 'c', fn: 'f', args: ['b'] },
    );
    const error = validationError(() => dag.validate());
    expect(error.kind).toBe('cycle');
    const cycle = error.cycle ?? [];
    expect(cycle[0]).toBe(cycle.at(-1));
    expect(new Set(cycle)).toEqual(new Set(['a', 'b', 'c']));
    expect(cycle).toHaveLength(4);
    expect(error.message).toContain(cycle.join(' -> '));
  });

  it('reports a task that depends on itself as a cycle', () => {
    const error = validationError(() => dagOf({ id: 'a', fn: 'f', args: ['a'] }).validate());
    expect(error.kind).toBe('cycle');
    expect(error.cycle).toEqual(['a', 'a']);
  });

  it('reports a missing or inline collocation target', () => {
    const missing = dagOf({ id: 'a', fn: 'f', node: { collocatedWith: 'nope' } });
    expect(validationError(() => missing.validate()).kind).toBe('missing_dependency');
    const inline = dagOf(
      { id: 'i', fn: 'f', inline: true },
      { id: 'a', fn: 'f', args: ['i'], node: { collocatedWith: 'i' } },
    );
    const error = validationError(() => inline.validate());
    expect(error.kind).toBe('invalid_task');
    expect(error.taskId).toBe('a');
  });

  it('reports a collocation cycle', () => {
    const dag = dagOf(
      { id: 'a', fn: 'f', node: { collocatedWith: 'b' } },
      { id: 'b', fn: 'f', node: { collocatedWith: 'a' } },
    );
    expect(validationError(() => dag.validate()).kind).toBe('cycle');
  });

  it('refuses an inline task that nothing consumes', () => {
    const error = validationError(() => dagOf({ id: 'i', fn: 'f', inline: true }).validate());
    expect(error.kind).toBe('invalid_task');
    expect(error.taskId).toBe('i');
  });

  it('accepts tasks added in any order and orders producers first', () => {
    const dag = dagOf(
      { id: 'out', fn: 'f', args: ['mid'] },
      { id: 'mid', fn: 'f', args: ['src', 'inl'] },
      { id: 'inl', fn: 'f', args: ['src'], inline: true },
      { id: 'src', fn: 'f' },
    );
    const plan = dag.validate();
    const at = (id: string) => plan.order.indexOf(id);
    expect(at('src')).toBeLessThan(at('inl'));
    expect(at('inl')).toBeLessThan(at('mid'));
    expect(at('mid')).toBeLessThan(at('out'));
    expect(plan.scheduled).not.toContain('inl');
    expect(plan.deps.get('mid')).toEqual(['src']);
    expect(plan.dependents.get('src')).toEqual(['mid']);
  });

  it('sees dependencies through inline tasks', () => {
    const plan = dagOf(
      { id: 'x', fn: 'f' },
      { id: 'i1', fn: 'f', args: ['x'], inline: true },
      { id: 'i2', fn: 'f', args: ['i1'], inline: true },
      { id: 'y', fn: 'f', args: ['i2'] },
    ).validate();
    expect(plan.deps.get('y')).toEqual(['x']);
  });

  it('resolves collocation chains to their root', () => {
    const plan = dagOf(
      { id: 'a', fn: 'f' },
      { id: 'b', fn: 'f', node: { collocatedWith: 'a' } },
      { id: 'c', fn: 'f', node: { collocatedWith: 'b' } },
    ).validate();
    expect(plan.collocationRoot.get('c')).toBe('a');
    expect(plan.collocationRoot.get('a')).toBe('a');
  });

  it('validates a chain of 20,000 tasks without overflowing the stack', () => {
    const dag = new Dag();
    dag.add({ id: 't0', fn: 'f' });
    for (let i = 1; i < 20_000; i++) dag.add({ id: `t${i}`, fn: 'f', args: [`t${i - 1}`] });
    expect(dag.validate().order.at(-1)).toBe('t19999');
  });
});
