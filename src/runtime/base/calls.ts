import type { RequestOptions, Rpc } from '../../net/rpc.ts';
import {
  parseAttempt,
  parseClaim,
  parseDagId,
  parseGet,
  parseKey,
  parsePart,
} from './message-checks.ts';
import type { AttemptKey } from './messages.ts';
import type { RunState, RunStatus, TaskState } from './run-handle.ts';

/** A run's status with the epoch that tells the latest run of a DAG from earlier ones. */
export type EpochStatus = RunStatus & { readonly epoch: number };

/** What a peer answers a claim. */
export interface ClaimAnswer {
  /** It runs the DAG now, as its orchestrator. */
  readonly running: boolean;
  /** It is asking the room itself, with this ticket. */
  readonly claiming: string | null;
  /** The DAG's epoch there. */
  readonly epoch: number;
}

/**
 * A `data.find` answer: whether the peer holds the item, knows the DAG, and its run of it, and
 * whether that epoch marks a clear of its data (`cleared`; false from earlier versions).
 */
export interface Found {
  readonly has: boolean;
  readonly knowsDag: boolean;
  readonly epoch: number;
  readonly cleared: boolean;
}

export type GetBody = ReturnType<typeof parseGet>;
type DataKey = { readonly dagId: string; readonly dataId: string };

/**
 * Every request one peer makes of another: its method name, the body it sends and the answer
 * it gets. A body is checked where it arrives (a bad one is refused with `BadMessage`), and so
 * is an answer (a bad one reads as the least the asker can assume).
 */
export interface Calls {
  /** A value, as the producer's serialize hook turns it when one is named. */
  'data.get': { body: GetBody; answer: unknown };
  /** One part of a big value the peer offered in answer to `data.get` (`serve/offers.ts`). */
  'data.part': { body: ReturnType<typeof parsePart>; answer: Uint8Array };
  /** Whether the peer holds an item (not the value: a big one takes seconds to read). */
  'data.find': { body: DataKey; answer: Found };
  /**
   * Removes the DAG's data on the peer, marking it cleared at `epoch` (0 from earlier versions);
   * refused with `dag_running` while it works for a run.
   */
  'data.clear': { body: { readonly dagId: string; readonly epoch: number }; answer: boolean };
  /** The holders of an item that the run's orchestrator knows of. */
  'data.locate': { body: DataKey; answer: string[] };
  /** May the asker start a run of this DAG? */
  'run.claim': { body: { readonly dagId: string; readonly ticket: string }; answer: ClaimAnswer };
  /** The status of the run this peer orchestrates (or orchestrated), or null. */
  'run.status': { body: { readonly dagId: string }; answer: EpochStatus | null };
  /** Does this worker still have that attempt (queued, waiting for inputs, or running)? */
  'run.has': { body: AttemptKey; answer: boolean };
}

export type MethodName = keyof Calls;

/** The method names, for code that names them (tests crafting requests, say). */
export const Method = {
  get: 'data.get',
  part: 'data.part',
  find: 'data.find',
  clear: 'data.clear',
  locate: 'data.locate',
  claim: 'run.claim',
  status: 'run.status',
  has: 'run.has',
} as const satisfies Record<string, MethodName>;

type Checks = {
  readonly [M in MethodName]: {
    body(value: unknown): Calls[M]['body'];
    answer(value: unknown): Calls[M]['answer'];
  };
};

const fields = (value: unknown) =>
  (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
const epochOf = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;

const CHECKS: Checks = {
  'data.get': { body: parseGet, answer: (value) => value },
  // Anything but bytes reads as no bytes: the asker finds the part the wrong size.
  'data.part': {
    body: parsePart,
    answer: (value) => (value instanceof Uint8Array ? value : new Uint8Array(0)),
  },
  'data.find': {
    body: parseKey,
    answer: (value) => {
      const v = fields(value);
      const { has, knowsDag, cleared } = v;
      return {
        has: has === true,
        knowsDag: knowsDag === true,
        epoch: epochOf(v.epoch),
        cleared: cleared === true,
      };
    },
  },
  'data.clear': {
    body: (value) => ({ dagId: parseDagId(value), epoch: epochOf(fields(value).epoch) }),
    answer: (v) => v === true,
  },
  'data.locate': {
    body: parseKey,
    answer: (value) =>
      Array.isArray(value) ? value.filter((h): h is string => typeof h === 'string') : [],
  },
  'run.claim': {
    body: parseClaim,
    answer: (value) => {
      const v = fields(value);
      return {
        running: v.running === true,
        claiming: typeof v.claiming === 'string' && v.claiming.length <= 64 ? v.claiming : null,
        epoch: epochOf(v.epoch),
      };
    },
  },
  'run.status': {
    body: (value) => ({ dagId: parseDagId(value) }),
    answer: (value) => parseStatus(value) ?? null,
  },
  'run.has': { body: parseAttempt, answer: (value) => value === true },
};

/** Asks `peer`; the answer is checked before anyone sees it. */
export async function call<M extends MethodName>(
  rpc: Rpc,
  peer: string,
  method: M,
  body: Calls[M]['body'],
  options?: RequestOptions,
): Promise<Calls[M]['answer']> {
  return CHECKS[method].answer(await rpc.request(peer, method, body, options));
}

/** Answers `method`; the body is checked before the handler sees it. */
export function serve<M extends MethodName>(
  rpc: Rpc,
  method: M,
  handler: (
    body: Calls[M]['body'],
    from: string,
  ) => Calls[M]['answer'] | Promise<Calls[M]['answer']>,
): () => void {
  return rpc.handle(method, (body, from) => handler(CHECKS[method].body(body), from));
}

const RUN_STATES = new Set<RunState>(['running', 'done', 'failed', 'cancelled']);
const TASK_STATES = new Set<TaskState>(['waiting', 'ready', 'placed', 'running', 'done', 'failed']);

/** A `run.status` answer, checked where it arrives; undefined for "no such run here". */
export function parseStatus(value: unknown): EpochStatus | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.dagId !== 'string' || !RUN_STATES.has(v.state as RunState)) return undefined;
  if (typeof v.epoch !== 'number' || !Number.isSafeInteger(v.epoch)) return undefined;
  if (typeof v.tasks !== 'object' || v.tasks === null) return undefined;
  const tasks: Record<string, { state: TaskState; peer: string | undefined; failures: number }> =
    {};
  for (const [id, t] of Object.entries(v.tasks as Record<string, unknown>)) {
    const task = fields(t);
    if (!TASK_STATES.has(task.state as TaskState)) return undefined;
    tasks[id] = {
      state: task.state as TaskState,
      peer: typeof task.peer === 'string' ? task.peer : undefined,
      failures: typeof task.failures === 'number' ? task.failures : 0,
    };
  }
  return { dagId: v.dagId, state: v.state as RunState, tasks, epoch: v.epoch };
}
