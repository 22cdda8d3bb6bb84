import type { Plan, Task } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { SubmitOptions } from './base/run-handle.ts';
import { Here } from './run/here.ts';
import { Run } from './run/run.ts';
import { type AttemptEnv, attempt, isPromise } from './work/attempt.ts';

/** What a node needs to run a DAG as a room of one. */
export interface AloneEnv {
  readonly nodeId: string;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
}

/** Tasks of one run at once on a node alone, unless the run says otherwise. */
const DEFAULT_MAX_CONCURRENCY = 16;

/**
 * Runs a DAG on a node with no room: the orchestrator of every run, its room of one peer, itself.
 * Each task runs in the run's own turn (see `Here`): its inputs are the values the run holds, its
 * result is kept in them and written behind to the store, and the run resolves once every write
 * has committed.
 */
export function runAlone(
  env: AloneEnv,
  dagId: string,
  plan: Plan,
  options: SubmitOptions,
): Run<Here> {
  const { nodeId, functions, store } = env;
  let shared: AttemptEnv | undefined;
  const ports = {
    self: nodeId,
    release: () => undefined, // nothing is claimed on a node alone
    over: () => undefined,
    fetch: () => Promise.reject(new Error('a node alone holds every value it made')),
  };
  const limited = { ...options, maxConcurrency: options.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY };
  return new Run(
    dagId,
    plan,
    ports,
    limited,
    0,
    (run) =>
      new Here(run, {
        run(task: Task, no, signal, value, settle) {
          // One for the whole run: its signal and its values are the run's.
          shared ??= {
            dagId,
            nodeId,
            tasks: plan.tasks,
            functions,
            signal,
            value,
            holder: () => nodeId,
          };
          let outcome: unknown;
          try {
            outcome = attempt(shared, task, no, task.timeout ?? options.timeout);
          } catch (error) {
            settle(true, error);
            return;
          }
          if (!isPromise(outcome)) settle(false, outcome);
          else
            outcome.then(
              (v) => settle(false, v),
              (error: unknown) => settle(true, error),
            );
        },
        keep: (taskId, value) => store.put(dagId, taskId, value),
        flush: () => store.flush?.(),
      }),
  );
}
