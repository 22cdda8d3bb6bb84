import { sizeOf } from '../../data/size.ts';
import { UnknownFunctionError } from '../../errors.ts';
import { errorInfo } from '../../net/rpc.ts';
import type { Resources } from '../../schedule/placement.ts';
import type { FunctionRegistry } from '../base/functions.ts';
import type { Fetch, TaskOrder, TaskReport } from '../base/messages.ts';
import {
  type ArgumentPorts,
  attemptEnv,
  LostInputError,
  type Resolved,
  resolveArguments,
} from './arguments.ts';
import { attempt, isPromise } from './attempt.ts';

/** Results at most this large ride along with the completion report. */
export const SMALL_RESULT_BYTES = 16 * 1024;

/** A task order a task runner accepted, from the orchestrator that sent it. */
export interface Job {
  readonly from: string;
  readonly order: TaskOrder;
  readonly cost: Resources;
  /** Arguments an early task fetched while it waited, reported with its result. */
  prefetched?: Fetch[];
  /** Their values, used when it runs: a value too big for the cache is not fetched twice. */
  inputs?: Map<string, Resolved> | undefined;
  /** It ended here (ran, failed, dropped): counted out of `making`. */
  released?: boolean;
}

export type DistributiveReport = TaskReport extends infer R
  ? R extends TaskReport
    ? Omit<R, 'dagId' | 'taskId' | 'attempt'>
    : never
  : never;

/**
 * How an attempt is cancelled. Its `AbortSignal` is made only when something asks for it (an
 * input to wait for, a function that reads `ctx.signal`, a timeout): a trivial task makes none.
 */
export class AttemptAbort {
  #controller: AbortController | undefined;
  #reason: unknown;
  #onAbort: (() => void) | undefined;
  aborted = false;

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get reason(): unknown {
    return this.#reason;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#onAbort?.();
  }

  /** Calls `callback` once when aborted (one callback at a time). */
  onAbort(callback: (() => void) | undefined): void {
    this.#onAbort = callback;
  }
}

/** What running one attempt needs from its task runner. */
export interface AttemptHost {
  readonly id: string;
  readonly functions: FunctionRegistry;
  readonly argumentPorts: ArgumentPorts;
  /** The order's run ended here meanwhile: its result is not kept. */
  ended(order: TaskOrder): boolean;
  ran(order: TaskOrder, started: number, error?: unknown): void;
  /** Keeps the result here; undefined when a later run of the DAG began here meanwhile. */
  keep(order: TaskOrder, value: unknown, bytes: number): Promise<void> | undefined;
  report(job: Job, fields: DistributiveReport): void;
  /** The attempt is over, whatever its outcome: its place is free. */
  finished(job: Job): void;
}

/**
 * Runs one attempt of a job: resolves its arguments, calls its function, keeps and reports the
 * result. Inputs in memory and a synchronous function take no promise and no microtask: a run
 * of many trivial tasks costs what the tasks cost, not what the machinery does. `started` is
 * reported only when the attempt has to wait (for an input or its function's promise).
 */
export function runAttempt(host: AttemptHost, job: Job, abort: AttemptAbort): void {
  const { inputs } = job;
  job.inputs = undefined;
  let resolved: ReturnType<typeof resolveArguments>;
  try {
    resolved =
      inputs === undefined
        ? resolveArguments(host.argumentPorts, job, abort)
        : { values: inputs, fetched: [] };
  } catch (error) {
    fail(host, job, abort, error, undefined);
    return;
  }
  if (isPromise(resolved)) {
    host.report(job, { kind: 'started' });
    resolved.then(
      (r) => call(host, job, abort, r.values, r.fetched),
      (error: unknown) => fail(host, job, abort, error, undefined),
    );
  } else call(host, job, abort, resolved.values, resolved.fetched, true);
}

function call(
  host: AttemptHost,
  job: Job,
  abort: AttemptAbort,
  values: Map<string, Resolved>,
  now: Fetch[],
  unannounced = false,
): void {
  const { order } = job;
  if (abort.aborted) {
    fail(host, job, abort, abort.reason, undefined); // cancelled while its inputs came
    return;
  }
  const fetched =
    job.prefetched === undefined || job.prefetched.length === 0 ? now : [...job.prefetched, ...now];
  const started = performance.now();
  let outcome: unknown;
  try {
    const env = attemptEnv(order, values, abort, host);
    outcome = attempt(env, order.task, order.tries ?? order.attempt, order.timeout);
  } catch (error) {
    if (unannounced) host.report(job, { kind: 'started' }); // it ran: its failure says so after
    fail(host, job, abort, error, started);
    return;
  }
  if (!isPromise(outcome)) {
    succeed(host, job, abort, outcome, fetched, started);
    return;
  }
  // Announced now that it waits for its promise (one that ends at once is not: its `done` is).
  if (unannounced) host.report(job, { kind: 'started' });
  // A cancelled attempt frees its place at once, whether or not its function heeds the signal;
  // a job ends once (`fail` and `succeed` look), so what the function does after changes nothing.
  abort.onAbort(() => fail(host, job, abort, abort.reason, started));
  outcome.then(
    (value) => {
      abort.onAbort(undefined);
      succeed(host, job, abort, value, fetched, started);
    },
    (error: unknown) => {
      abort.onAbort(undefined);
      fail(host, job, abort, error, started);
    },
  );
}

function succeed(
  host: AttemptHost,
  job: Job,
  abort: AttemptAbort,
  value: unknown,
  fetched: Fetch[],
  started: number,
): void {
  const { order } = job;
  if (job.released === true) return; // cancelled, and ended then
  try {
    const write =
      abort.aborted || host.ended(order) ? undefined : keep(host, order, value, started);
    if (write === undefined) {
      host.finished(job); // cancelled, or a later run of the DAG began here meanwhile
      return;
    }
    const { bytes } = write;
    const small = bytes <= SMALL_RESULT_BYTES;
    host.report(job, {
      kind: 'done',
      bytes,
      hasValue: small,
      ...(small ? { value } : {}),
      fetched,
    });
    // Durability is reported on its own, off the critical path: dependents need not wait for it.
    write.stored.then(
      () => host.report(job, { kind: 'stored' }),
      (error: unknown) => host.report(job, { kind: 'unstored', error: errorInfo(error) }),
    );
  } catch (error) {
    fail(host, job, abort, error, started);
    return;
  }
  host.finished(job);
}

function keep(
  host: AttemptHost,
  order: TaskOrder,
  value: unknown,
  started: number,
): { bytes: number; stored: Promise<void> } | undefined {
  host.ran(order, started);
  const bytes = sizeOf(value);
  const stored = host.keep(order, value, bytes);
  return stored === undefined ? undefined : { bytes, stored };
}

function fail(
  host: AttemptHost,
  job: Job,
  abort: AttemptAbort,
  error: unknown,
  started: number | undefined,
): void {
  if (job.released === true) return; // over already (cancelled, then its function failed)
  if (!abort.aborted) {
    if (started !== undefined) host.ran(job.order, started, error);
    host.report(job, failure(error));
  }
  host.finished(job);
}

/**
 * An early task's inputs, waited for before it queues for capacity (so a task waiting for a
 * value never holds the room a producer on this same runner needs), kept on the job. False when
 * it was cancelled, its run ended, or an input failed (reported).
 */
export async function prefetch(
  host: AttemptHost,
  job: Job,
  controller: AbortController,
): Promise<boolean> {
  try {
    const { values, fetched } = await resolveArguments(host.argumentPorts, job, controller, true);
    job.prefetched = fetched;
    job.inputs = values;
  } catch (error) {
    if (!controller.signal.aborted) host.report(job, failure(error));
    return false;
  }
  return !controller.signal.aborted && !host.ended(job.order);
}

/** The report of a failed attempt: an input no holder could give, or the function's error. */
export function failure(error: unknown): DistributiveReport {
  const lost = error instanceof LostInputError ? error.lost : undefined;
  return {
    kind: 'failed',
    error: errorInfo(error instanceof LostInputError ? error.cause : error),
    retryable: !(error instanceof UnknownFunctionError),
    lost,
  };
}
