import { DagValidationError } from '../errors.ts';
import type { ArgEdge, ArgRef, InputSpec, Placement, StageSpec, Task, TaskSpec } from './types.ts';

/** Checks one task's own shape (not its relations) and fills in the defaults. */
export function normalizeTask(given: TaskSpec | InputSpec): Task {
  if (given === null || typeof given !== 'object') {
    throw invalid('?', 'a task must be an object');
  }
  const id: unknown = given.id;
  if (!isName(id)) throw invalid(String(id), 'task id must be a non-empty string');
  if ((given as { input?: unknown }).input !== undefined) return input(id, given);
  const spec = given as TaskSpec;
  if (!isName(spec.fn)) throw invalid(id, `task '${id}': fn must be a non-empty function name`);

  const args = spec.args ?? [];
  if (!Array.isArray(args)) throw invalid(id, `task '${id}': args must be an array of task ids`);
  const extraArgs = spec.extraArgs ?? [];
  if (!Array.isArray(extraArgs)) throw invalid(id, `task '${id}': extraArgs must be an array`);

  const maxRetries = spec.maxRetries;
  if (maxRetries !== undefined && !(Number.isInteger(maxRetries) && maxRetries >= 0)) {
    throw invalid(id, `task '${id}': maxRetries must be a non-negative integer`);
  }
  const timeout = spec.timeout;
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    throw invalid(id, `task '${id}': timeout must be a positive number of milliseconds`);
  }
  const inline = flag(id, 'inline', spec.inline);
  const argsAsList = flag(id, 'argsAsList', spec.argsAsList);
  const node = placement(id, spec.node);
  if (inline && node !== undefined) {
    throw invalid(
      id,
      `task '${id}' is inline and so runs inside its consumers: it cannot have a node`,
    );
  }
  return {
    id,
    fn: spec.fn,
    args: args.map((ref: ArgRef, i) => edge(id, ref, i)),
    extraArgs,
    cost: cost(id, spec.cost),
    node,
    inline,
    maxRetries,
    argsAsList,
    timeout,
    ...stageOf(id, spec),
  };
}

/** An input of a pipeline: an id, nothing else (its values come from `push`). */
function input(id: string, spec: TaskSpec | InputSpec): Task {
  if ((spec as { input?: unknown }).input !== true)
    throw invalid(id, `task '${id}': input must be true when given`);
  const extra = Object.keys(spec).filter((key) => key !== 'id' && key !== 'input');
  if (extra.length > 0)
    throw invalid(id, `task '${id}' is an input, fed by push: it takes no ${extra.join(', ')}`);
  const none = { fn: '', args: [], extraArgs: [], cost: {}, node: undefined };
  return {
    id,
    ...none,
    inline: false,
    maxRetries: undefined,
    argsAsList: false,
    timeout: undefined,
    input: true,
  };
}

/** The stage fields of a spec, checked; none when it gives none. */
function stageOf(id: string, spec: StageSpec): { stage?: StageSpec } {
  const { init, parallelism, batchSize, batchTimeout } = spec;
  if (
    init === undefined &&
    parallelism === undefined &&
    batchSize === undefined &&
    batchTimeout === undefined
  )
    return {};
  if (init !== undefined && !isName(init))
    throw invalid(id, `task '${id}': init must be a function name`);
  const count = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1 && value <= 65_536))
      throw invalid(id, `task '${id}': ${name} must be an integer from 1 to 65536`);
  };
  count('parallelism', parallelism);
  count('batchSize', batchSize);
  if (batchTimeout !== undefined && !(Number.isFinite(batchTimeout) && batchTimeout >= 0))
    throw invalid(id, `task '${id}': batchTimeout must be a number of milliseconds >= 0`);
  if (batchTimeout !== undefined && batchSize === undefined)
    throw invalid(id, `task '${id}': batchTimeout needs a batchSize`);
  return { stage: { init, parallelism, batchSize, batchTimeout } };
}

function edge(taskId: string, ref: ArgRef, index: number): ArgEdge {
  if (isName(ref)) return { from: ref };
  if (ref === null || typeof ref !== 'object' || !isName(ref.from)) {
    throw invalid(
      taskId,
      `task '${taskId}': args[${index}] must be a task id or { from, serialize?, deserialize? }`,
    );
  }
  for (const hook of ['serialize', 'deserialize'] as const) {
    if (ref[hook] !== undefined && !isName(ref[hook])) {
      throw invalid(taskId, `task '${taskId}': args[${index}].${hook} must be a function name`);
    }
  }
  return ref;
}

function placement(taskId: string, node: Placement | undefined): Placement | undefined {
  if (node === undefined || isName(node)) return node;
  if (node !== null && typeof node === 'object' && isName(node.collocatedWith)) {
    if (node.collocatedWith === taskId) {
      throw invalid(taskId, `task '${taskId}' cannot be collocated with itself`);
    }
    return node;
  }
  throw invalid(taskId, `task '${taskId}': node must be a node id or { collocatedWith: taskId }`);
}

function cost(taskId: string, value: TaskSpec['cost']): Readonly<Record<string, number>> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(taskId, `task '${taskId}': cost must be an object of numbers`);
  }
  for (const [name, amount] of Object.entries(value)) {
    if (!(Number.isFinite(amount) && amount >= 0)) {
      throw invalid(taskId, `task '${taskId}': cost.${name} must be a finite number >= 0`);
    }
  }
  return value;
}

function flag(taskId: string, name: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean')
    throw invalid(taskId, `task '${taskId}': ${name} must be a boolean`);
  return value;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function invalid(taskId: string, message: string): DagValidationError {
  return new DagValidationError('invalid_task', taskId, message);
}
