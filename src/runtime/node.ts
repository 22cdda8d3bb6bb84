import { type Dag, hasGeneratedId, type Plan } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { Emitter } from '../emitter.ts';
import {
  AllocationError,
  DagRunningError,
  DataNotFoundError,
  NodeClosedError,
  UnknownDagError,
  UnknownFunctionError,
} from '../errors.ts';
import type { LinkStats } from '../net/connector.ts';
import type {
  DroppedMessage,
  PeerInfo,
  Traffic,
  Transport,
  TransportEvents,
} from '../net/transport.ts';
import { type Allocation, allocate, allocatorTask } from '../schedule/allocation.ts';
import { runAlone } from './alone.ts';
import { type FunctionRegistry, lookup } from './base/functions.ts';
import { type Pipeline, refusePipelineParts, type StreamOptions } from './base/pipeline-api.ts';
import { RUNS_DAG } from './base/reserved.ts';
import {
  checkRunOptions,
  type RunHandle,
  type RunResult,
  type RunStatus,
  type SubmitOptions,
} from './base/run-handle.ts';
import type { Cluster } from './cluster.ts';
import { LazyPipeline } from './lazy-pipeline.ts';
import type { HandoutNode, NodeEvents, ResultOptions, StorageEstimate } from './node-api.ts';
import type { FunctionPool } from './pool/pool.ts';
import type { Here } from './run/here.ts';
import type { Run } from './run/run.ts';
import { EXPIRY_DAG, type Expiry } from './serve/expiry.ts';

/** DAG objects submitted in this realm: a generated id is fresh only for its first run. */
const submitted = new WeakSet<Dag>();

/** A node, as `createNode` hands it out: see {@link HandoutNode}. */
export class Node implements HandoutNode {
  /** Runs of this node alone, finished ones too (for `status`), until cleared. */
  readonly #runs = new Map<string, Run<Here>>();
  /** DAGs run here in this session, so a DAG whose every task failed is still "known". */
  readonly #known = new Set<string>();
  /** Pipelines orchestrated here, stopped when the node closes. */
  readonly #pipelines = new Set<Pipeline>();
  #closed = false;
  readonly #dropped = new Emitter<{ dropped: DroppedMessage }>();
  #droppedCount = 0;

  constructor(
    readonly id: string,
    readonly functions: FunctionRegistry,
    readonly store: ResultStore,
    readonly transport: Transport | undefined,
    readonly cluster: Cluster | undefined,
    readonly expiry: Expiry,
    readonly ttl: number | undefined,
    readonly pool: FunctionPool | undefined = undefined,
  ) {
    // Refusals by the transport and by the runtime, counted together.
    const report = (event: Omit<DroppedMessage, 'total'>) =>
      this.#dropped.emit('dropped', { ...event, total: ++this.#droppedCount });
    transport?.on('dropped', report);
    cluster?.dropped.on('dropped', report);
  }

  peers(): PeerInfo[] {
    return this.transport?.peers() ?? [];
  }

  traffic(): Record<string, Traffic> {
    return this.transport?.traffic() ?? {};
  }

  links(): LinkStats {
    return this.transport?.links() ?? { open: 0, opened: 0, peerConnections: 0 };
  }

  load(peerId?: string): {
    readonly tasks: number;
    readonly used: Readonly<Record<string, number>>;
  } {
    if (peerId !== undefined && peerId !== this.id)
      return this.cluster?.book.advertised(peerId) ?? { tasks: 0, used: {} };
    if (this.cluster !== undefined) return this.cluster.runner.load;
    let tasks = 0;
    for (const run of this.#runs.values()) tasks += run.running;
    return { tasks, used: {} };
  }

  on<E extends keyof NodeEvents>(event: E, listener: (event: NodeEvents[E]) => void): () => void {
    if (event === 'dropped') return this.#dropped.on('dropped', listener as never);
    if (event === 'task:ran')
      return this.cluster?.runner.ran.on('task:ran', listener as never) ?? (() => undefined);
    return (
      this.transport?.on(event as keyof TransportEvents, listener as never) ?? (() => undefined)
    );
  }

  execute(dag: Dag, options: SubmitOptions = {}): Promise<RunResult> {
    try {
      return this.submit(dag, options).done;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  submit(dag: Dag, given: SubmitOptions = {}): RunHandle {
    if (this.#closed) throw new NodeClosedError(this.id);
    checkRunOptions(given);
    const options =
      given.ttl === undefined && this.ttl !== undefined ? { ...given, ttl: this.ttl } : given;
    const plan = dag.validate();
    refusePipelineParts(plan);
    this.#checkFunctions(plan);
    // The first run of a generated id needs nobody's leave: no earlier run of it exists.
    const fresh = hasGeneratedId(dag) && !submitted.has(dag);
    if (this.cluster !== undefined) {
      const handle = this.cluster.submit(dag, plan, options, fresh);
      submitted.add(dag);
      return handle;
    }
    this.#checkPlacement(plan, options.allocation);
    if (this.#runs.get(dag.id)?.state === 'running') throw new DagRunningError(dag.id);
    submitted.add(dag);
    // A re-run starts from nothing: no value of an earlier run of this id may be read as its.
    const cleared = fresh ? undefined : this.store.clearDag(dag.id);
    const env = { nodeId: this.id, functions: this.functions, store: this.store };
    const run = runAlone(env, dag.id, plan, options);
    this.#runs.set(dag.id, run);
    if (options.ttl !== undefined) {
      this.expiry.touch(dag.id, options.ttl);
      // As in a swarm, the time-to-live counts from the end of the run.
      run.done.then(
        () => this.expiry.restart(dag.id),
        () => this.expiry.restart(dag.id),
      );
    }
    this.#known.add(dag.id);
    const done = Promise.all([cleared, run.done]).then(([, result]) => result);
    return {
      dagId: dag.id,
      done,
      status: () => run.status(),
      on: (event, listener) => run.events.on(event, listener),
      cancel: (reason) => run.cancel(reason),
    };
  }

  stream(dag: Dag, options: StreamOptions = {}): Pipeline {
    if (this.#closed) throw new NodeClosedError(this.id);
    const plan = dag.validate();
    this.#checkFunctions(plan);
    const id = crypto.randomUUID();
    // The engine, and the checks of the pipeline's shape and options, load on first use.
    const engine =
      this.cluster?.streams.start(id, dag.id, plan, options) ??
      import('./stream.ts').then((m) =>
        m.startLocal(id, dag.id, plan, options, this, (stages) =>
          this.#checkPlacement(stages, options.allocation),
        ),
      );
    const pipeline = new LazyPipeline(id, engine, () => this.#pipelines.delete(pipeline));
    this.#pipelines.add(pipeline);
    return pipeline;
  }

  async status(dagId: string): Promise<RunStatus> {
    if (this.cluster !== undefined) return this.cluster.status(dagId);
    const run = this.#runs.get(dagId);
    if (run === undefined) throw new UnknownDagError(dagId);
    return run.status();
  }

  async result(dagId: string, taskId: string, options: ResultOptions = {}): Promise<unknown> {
    const { timeout } = options;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
      throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
    if (this.cluster !== undefined) return this.cluster.result(dagId, taskId, timeout);
    try {
      return await this.store.get(dagId, taskId);
    } catch (error) {
      if (!(error instanceof DataNotFoundError)) throw error;
    }
    if (this.#runs.get(dagId)?.state === 'running') {
      throw new DataNotFoundError(dagId, taskId, 'its run has not stored it yet');
    }
    if (this.#known.has(dagId) || (await this.store.keys(dagId)).length > 0) {
      throw new DataNotFoundError(dagId, taskId);
    }
    throw new UnknownDagError(dagId);
  }

  async clear(dagId: string): Promise<void> {
    if (this.cluster !== undefined) {
      await this.cluster.clear(dagId);
      return;
    }
    if (this.#runs.get(dagId)?.state === 'running') throw new DagRunningError(dagId);
    await this.expire(dagId);
  }

  /** Whether a DAG has work in progress here (its data must not expire yet). */
  busy(dagId: string): boolean {
    if (this.cluster !== undefined) return this.cluster.isBusy(dagId);
    return this.#runs.get(dagId)?.state === 'running';
  }

  /** Removes a DAG's data on this node only. */
  async expire(dagId: string): Promise<void> {
    if (this.cluster !== undefined) return this.cluster.expire(dagId);
    this.expiry.forget(dagId);
    await this.store.clearDag(dagId);
    this.#runs.delete(dagId);
    this.#known.delete(dagId);
  }

  async dags(): Promise<string[]> {
    return (await this.store.dags()).filter((id) => id !== EXPIRY_DAG && id !== RUNS_DAG);
  }

  async storageEstimate(): Promise<StorageEstimate> {
    const dags = await this.dags();
    let items = 0;
    for (const dagId of dags) items += (await this.store.keys(dagId)).length;
    const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
    const browser = typeof storage?.estimate === 'function' ? await storage.estimate() : undefined;
    return { dags: dags.length, items, usage: browser?.usage, quota: browser?.quota };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const run of this.#runs.values()) run.abort(new NodeClosedError(this.id));
    await Promise.all([...this.#pipelines].map((p) => p.stop().catch(() => undefined)));
    this.expiry.close();
    this.cluster?.close();
    this.pool?.close();
    await this.transport?.close();
    await this.store.close();
  }

  /** Every peer registers the same functions, so one missing here is missing everywhere. */
  #checkFunctions(plan: Plan): void {
    for (const task of plan.tasks.values()) {
      if (task.input === true) continue; // fed by push: no function
      const hooks = task.args.flatMap((a) => [a.serialize, a.deserialize]);
      for (const name of [task.fn, task.stage?.init, ...hooks]) {
        if (name !== undefined && lookup(this.functions, name) === undefined) {
          throw new UnknownFunctionError(name, task.id, this.id);
        }
      }
    }
  }

  /**
   * On a lone node no task may be pinned elsewhere; a custom allocator, given this node alone,
   * must answer with it too. A local node runs every task itself, so costs are not held against
   * its capabilities here.
   */
  #checkPlacement(plan: Plan, allocation: Allocation | undefined): void {
    if (typeof allocation === 'function') {
      const self = { id: this.id, capabilities: {}, used: {}, tasks: this.load().tasks };
      const tasks = plan.scheduled.map((id) => allocatorTask(plan, id));
      const answer = allocate(allocation, tasks, [self], () => ({}));
      if (!(answer instanceof Map))
        throw new AllocationError(answer.taskId, answer.pinned, answer.reason);
    }
    for (const task of plan.tasks.values()) {
      if (typeof task.node === 'string' && task.node !== this.id) {
        throw new AllocationError(
          task.id,
          task.node,
          `it is pinned to node ${task.node}, which is not this node (${this.id}) and no other node is reachable`,
        );
      }
    }
  }
}
