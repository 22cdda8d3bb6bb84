import type { Dag, Plan } from '../dag/index.ts';
import type { Emitter } from '../emitter.ts';
import type { Load } from './base/messages.ts';
import type { RunHandle, RunStatus, SubmitOptions, TaskRan } from './base/run-handle.ts';

/**
 * Where a node's runs go: its room (`Cluster`), or the node alone (`Alone`). Either way a run is
 * one `Run` (`run/run.ts`); only its way to the peers differs.
 */
export interface Engine {
  /** Starts a run; `fresh` when its DAG's id was generated and this is its first run. */
  submit(dag: Dag, plan: Plan, options: SubmitOptions, fresh: boolean): RunHandle;
  status(dagId: string): Promise<RunStatus>;
  result(dagId: string, taskId: string, timeoutMs?: number): Promise<unknown>;
  clear(dagId: string): Promise<void>;
  /** Whether the DAG has work in progress here (its data must not expire yet). */
  isBusy(dagId: string): boolean;
  /** Removes a DAG's data on this node only (its time-to-live passed). */
  expire(dagId: string): Promise<void>;
  /** What runs here now: tasks, and the resources they hold. */
  readonly load: Load;
  /** Each task this node ran to an outcome. */
  readonly ran: Emitter<{ 'task:ran': TaskRan }>;
  close(): void;
}
