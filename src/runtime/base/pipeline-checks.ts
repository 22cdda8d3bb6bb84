import type { Plan } from '../../dag/index.ts';
import { DagValidationError } from '../../errors.ts';
import { checkAllocationOption } from '../../schedule/allocation.ts';
import type { StreamOptions } from './pipeline-api.ts';

// The checks of a pipeline's DAG and options, made where the engine loads (not on every page).

/** Checks stream options; throws `RangeError`. */
export function checkStreamOptions(options: StreamOptions): void {
  const { maxInFlight, maxRetries, timeout } = options;
  if (maxInFlight !== undefined && !(Number.isInteger(maxInFlight) && maxInFlight >= 1))
    throw new RangeError(`maxInFlight must be an integer >= 1, got ${maxInFlight}`);
  if (maxRetries !== undefined && !(Number.isInteger(maxRetries) && maxRetries >= 0))
    throw new RangeError(`maxRetries must be an integer >= 0, got ${maxRetries}`);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
    throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
  checkAllocationOption(options.allocation);
}

/** What a pipeline's plan shows placement: its stages only (inputs run nowhere). */
export function stagePlan(plan: Plan): Plan {
  return { ...plan, scheduled: plan.scheduled.filter((id) => plan.tasks.get(id)?.input !== true) };
}

/** A pipeline's DAG: at least one input and one stage; no inline tasks or edge hooks. */
export function checkPipelinePlan(plan: Plan): void {
  const tasks = [...plan.tasks.values()];
  const invalid = (taskId: string, message: string) =>
    new DagValidationError('invalid_task', taskId, message);
  if (!tasks.some((t) => t.input === true))
    throw invalid('', 'a pipeline needs at least one task with input: true, fed by push');
  if (!tasks.some((t) => t.input !== true))
    throw invalid('', 'a pipeline needs at least one stage (a task with a function)');
  for (const task of tasks) {
    if (task.inline)
      throw invalid(task.id, `task '${task.id}' is inline: pipelines take stages only`);
    if (task.args.some((a) => a.serialize !== undefined || a.deserialize !== undefined))
      throw invalid(
        task.id,
        `task '${task.id}': pipelines do not run serialize / deserialize hooks (items stay in memory)`,
      );
  }
}
