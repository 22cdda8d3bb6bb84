import type { ArgEdge, Task } from '../../dag/index.ts';
import { sizeOf } from '../../data/size.ts';
import { findValue, type ResultStore, type StagedParts } from '../../data/store.ts';
import type { ValueCache } from '../../data/value-cache.ts';
import { DataNotFoundError } from '../../errors.ts';
import type { FunctionRegistry } from '../base/functions.ts';
import { isLoss } from '../base/loss.ts';
import type { Fetch, LostInput, TaskOrder } from '../base/messages.ts';
import type { AttemptEnv } from './attempt.ts';

/** What resolving a task's arguments needs from its worker. */
export interface ArgumentPorts {
  readonly id: string;
  readonly cache: ValueCache;
  readonly store: ResultStore;
  /**
   * A value of run `epoch` from a peer that holds it; with `serialize`, as that hook turns it
   * there. Without, a big value is written to the store as it arrives: `staged` (see `keep`).
   */
  fetch(
    peer: string,
    dagId: string,
    epoch: number,
    dataId: string,
    serialize?: { fn: string; consumerTaskId: string },
    /** Wait there until the value exists, rather than failing to find it. */
    wait?: boolean,
  ): Promise<{ readonly value: unknown; readonly staged?: StagedParts | undefined }>;
  /** The kind of pipe to a peer, for the fetch log. */
  laneTo?(peer: string): string | undefined;
  /** Where the orchestrator knows a result to be. */
  locate(orchestrator: string, dagId: string, dataId: string): Promise<string[]>;
  /**
   * Keeps a fetched value of run `epoch` here (cache and store): its staging is committed when
   * there is one (else aborted, if it is not kept).
   */
  keep(
    dagId: string,
    epoch: number,
    dataId: string,
    value: unknown,
    bytes: number,
    staged?: StagedParts,
  ): Promise<void>;
  /** Resolves when the value is kept here. */
  waitFor(dagId: string, dataId: string, signal?: AbortSignal): Promise<unknown>;
}

/** The task whose arguments are resolved, and its orchestrator. */
export interface ArgumentJob {
  readonly from: string;
  readonly order: TaskOrder;
}

/** An argument's value, where it came from, and whether the producer's serialize already ran. */
export interface Resolved {
  readonly value: unknown;
  readonly from: string;
  readonly serialized: boolean;
}

/** A task's resolved arguments, and the ones fetched from other peers on the way. */
export interface ResolvedArguments {
  readonly values: Map<string, Resolved>;
  readonly fetched: Fetch[];
}

/**
 * Every scheduled producer's value a task needs: memory, own store, then the holders. At once
 * (no promise) when every one is in memory; `abort.signal` is only read when one is not.
 */
export function resolveArguments(
  ports: ArgumentPorts,
  job: ArgumentJob,
  abort: { readonly signal: AbortSignal },
  wait = false,
): ResolvedArguments | Promise<ResolvedArguments> {
  const { order } = job;
  const values = new Map<string, Resolved>();
  const fetched: Fetch[] = [];
  const rest: { edge: ArgEdge; consumer: Task }[] = [];
  const inline = order.inline.length === 0 ? undefined : new Set(order.inline.map((t) => t.id));
  for (const consumer of [order.task, ...order.inline]) {
    for (const edge of consumer.args) {
      if (inline?.has(edge.from)) continue;
      const key = valueKey(edge);
      if (values.has(key)) continue;
      const hot = ports.cache.get(order.dagId, edge.from);
      if (hot !== undefined) {
        values.set(key, { value: hot.value, from: ports.id, serialized: false });
        continue;
      }
      values.set(key, { value: undefined, from: ports.id, serialized: false });
      rest.push({ edge, consumer });
    }
  }
  if (rest.length === 0) return { values, fetched };
  const { signal } = abort;
  return Promise.all(
    rest.map(async ({ edge, consumer }) => {
      values.set(
        valueKey(edge),
        await argument(ports, job, edge, consumer.id, fetched, signal, wait),
      );
    }),
  ).then(() => ({ values, fetched }));
}

async function argument(
  ports: ArgumentPorts,
  job: ArgumentJob,
  edge: ArgEdge,
  consumerTaskId: string,
  fetched: Fetch[],
  signal: AbortSignal,
  wait = false,
): Promise<Resolved> {
  const { dagId, locations } = job.order;
  const { cache, store, id } = ports;
  const here = (value: unknown): Resolved => ({ value, from: id, serialized: false });
  const local = cache.get(dagId, edge.from);
  if (local !== undefined) return here(local.value);
  // An early task whose producer runs here waits for it here.
  const listed = locations[edge.from];
  if (wait && listed?.includes(id)) return here(await ports.waitFor(dagId, edge.from, signal));
  // The store is only worth a transaction when the value may be here: the orchestrator lists
  // this node as a holder, or lists nobody.
  if (listed === undefined || listed.length === 0 || listed.includes(id)) {
    const stored = await findValue(store, dagId, edge.from);
    if (stored !== undefined) return here(stored.value);
  }
  let holders = (locations[edge.from] ?? []).filter((h) => h !== id);
  if (holders.length === 0)
    holders = (await ports.locate(job.from, dagId, edge.from)).filter((h) => h !== id);
  const serialize =
    edge.serialize === undefined ? undefined : { fn: edge.serialize, consumerTaskId };
  // Made only when needed: an error's stack costs more than a trivial task's whole run.
  let lastError: unknown;
  for (const holder of holders) {
    if (signal.aborted) throw signal.reason;
    const started = performance.now();
    try {
      const taken = await ports.fetch(holder, dagId, job.order.epoch, edge.from, serialize, wait);
      const { value, staged } = taken;
      if (signal.aborted) {
        void staged?.abort();
        throw signal.reason; // cancelled meanwhile: nothing is kept
      }
      const bytes = sizeOf(value);
      const ms = performance.now() - started;
      const lane = ports.laneTo?.(holder) ?? '';
      fetched.push({ argId: edge.from, from: holder, bytes, ms, lane });
      // A value turned by the producer's serialize hook is this edge's own: not cached.
      if (serialize === undefined)
        ports.keep(dagId, job.order.epoch, edge.from, value, bytes, staged).catch(() => undefined);
      return { value, from: holder, serialized: serialize !== undefined };
    } catch (error) {
      if (signal.aborted || !isLoss(error)) throw error; // a serialize hook that threw
      lastError = error; // that holder is gone or lost it: the next one may have it
    }
  }
  throw new LostInputError(
    { argId: edge.from, holders },
    lastError ?? new DataNotFoundError(dagId, edge.from, 'no peer holds it'),
  );
}

/** No holder of an argument could provide it: the orchestrator finds or remakes it. */
export class LostInputError extends Error {
  override name = 'LostInputError';
  constructor(
    readonly lost: LostInput,
    override readonly cause: unknown,
  ) {
    super(`no holder could provide '${lost.argId}'`);
  }
}

/** A producer's value as one edge receives it: raw, or through that edge's serialize hook. */
export function valueKey(edge: ArgEdge): string {
  return edge.serialize === undefined ? edge.from : `${edge.from}\u0000${edge.serialize}`;
}

/** What an attempt of the ordered task sees, its arguments resolved to `values`. */
export function attemptEnv(
  order: TaskOrder,
  values: Map<string, Resolved>,
  abort: { readonly signal: AbortSignal },
  worker: { readonly id: string; readonly functions: FunctionRegistry },
): AttemptEnv {
  // Scheduled producers are left out: attempt() takes a producer it does not find as one.
  const tasks = new Map<string, Task>([[order.task.id, order.task]]);
  for (const t of order.inline) tasks.set(t.id, t);
  const resolved = (taskId: string, edge: ArgEdge) =>
    values.get(valueKey({ ...edge, from: taskId }));
  return {
    dagId: order.dagId,
    nodeId: worker.id,
    tasks,
    functions: worker.functions,
    get signal() {
      return abort.signal; // made when first asked for
    },
    value: (taskId, edge) => resolved(taskId, edge)?.value,
    serializedRemotely: (taskId, edge) => resolved(taskId, edge)?.serialized === true,
    holder: (taskId) => {
      for (const [key, r] of values)
        if (key === taskId || key.startsWith(`${taskId}\u0000`)) return r.from;
      return worker.id;
    },
  };
}
