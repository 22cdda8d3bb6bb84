import { type Dag, hasGeneratedId, type Plan } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { Emitter } from '../emitter.ts';
import { NodeClosedError, UnknownFunctionError } from '../errors.ts';
import type { LinkStats } from '../net/connector.ts';
import type {
  DroppedMessage,
  PeerInfo,
  Traffic,
  Transport,
  TransportEvents,
} from '../net/transport.ts';
import { Alone } from './alone.ts';
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
import type { Engine } from './engine.ts';
import { LazyPipeline } from './lazy-pipeline.ts';
import type { HandoutNode, NodeEvents, ResultOptions, StorageEstimate } from './node-api.ts';
import type { FunctionPool } from './pool/pool.ts';
import { EXPIRY_DAG, type Expiry } from './serve/expiry.ts';

/** DAG objects submitted in this realm: a generated id is fresh only for its first run. */
const submitted = new WeakSet<Dag>();

/** What a node is made of (see `createNodeOn`). */
export interface NodeParts {
  readonly id: string;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly expiry: Expiry;
  readonly ttl?: number | undefined;
  readonly pool?: FunctionPool | undefined;
  readonly transport?: Transport | undefined;
  /** The room's engine; without one the node is alone. */
  readonly cluster?: Cluster | undefined;
}

/** A node, as `createNode` hands it out: see {@link HandoutNode}. */
export class Node implements HandoutNode {
  /** Pipelines orchestrated here, stopped when the node closes. */
  readonly #pipelines = new Set<Pipeline>();
  #closed = false;
  readonly #dropped = new Emitter<{ dropped: DroppedMessage }>();
  #droppedCount = 0;

  readonly id: string;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly expiry: Expiry;
  /** The node's default time-to-live for a run's data. */
  readonly ttl: number | undefined;
  readonly pool: FunctionPool | undefined;
  readonly transport: Transport | undefined;
  /** The room's engine, when the node joined one. */
  readonly cluster: Cluster | undefined;
  /** Where this node's runs go: its room, or the node alone (a room of one). */
  readonly engine: Engine;
  readonly #alone: Alone | undefined;

  constructor(parts: NodeParts) {
    const { id, functions, store, expiry, cluster } = parts;
    this.id = id;
    this.functions = functions;
    this.store = store;
    this.expiry = expiry;
    this.ttl = parts.ttl;
    this.pool = parts.pool;
    this.transport = parts.transport;
    this.cluster = cluster;
    this.#alone = cluster === undefined ? new Alone({ id, functions, store, expiry }) : undefined;
    this.engine = cluster ?? (this.#alone as Alone);
    // Refusals by the transport and by the runtime, counted together.
    const report = (event: Omit<DroppedMessage, 'total'>) =>
      this.#dropped.emit('dropped', { ...event, total: ++this.#droppedCount });
    this.transport?.on('dropped', report);
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
    return this.engine.load;
  }

  on<E extends keyof NodeEvents>(event: E, listener: (event: NodeEvents[E]) => void): () => void {
    if (event === 'dropped') return this.#dropped.on('dropped', listener as never);
    if (event === 'task:ran') return this.engine.ran.on('task:ran', listener as never);
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
    const handle = this.engine.submit(dag, plan, options, fresh);
    submitted.add(dag);
    return handle;
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
          (this.#alone as Alone).checkPlacement(stages, options.allocation),
        ),
      );
    const pipeline = new LazyPipeline(id, engine, () => this.#pipelines.delete(pipeline));
    this.#pipelines.add(pipeline);
    return pipeline;
  }

  status(dagId: string): Promise<RunStatus> {
    return this.engine.status(dagId);
  }

  async result(dagId: string, taskId: string, options: ResultOptions = {}): Promise<unknown> {
    const { timeout } = options;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
      throw new RangeError(`timeout must be a positive number of milliseconds, got ${timeout}`);
    return this.engine.result(dagId, taskId, timeout);
  }

  clear(dagId: string): Promise<void> {
    return this.engine.clear(dagId);
  }

  /** Whether a DAG has work in progress here (its data must not expire yet). */
  busy(dagId: string): boolean {
    return this.engine.isBusy(dagId);
  }

  /** Removes a DAG's data on this node only. */
  expire(dagId: string): Promise<void> {
    return this.engine.expire(dagId);
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
    this.#alone?.close(); // its runs end now; a room's end after its pipelines (they tell peers)
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
}
