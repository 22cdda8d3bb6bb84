import type { Dag } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import type { LinkStats } from '../net/connector.ts';
import type { PeerInfo, Traffic, TransportEvents } from '../net/transport.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { Pipeline, StreamOptions } from './base/pipeline-api.ts';
import type { RunHandle, RunResult, RunStatus, SubmitOptions, TaskRan } from './base/run-handle.ts';
import type { SwarmOptions } from './swarm.ts';

// The public shape of a node: what createNode takes and what it returns.

/** Options of {@link createNode}. */
export interface NodeOptions extends SwarmOptions {
  /**
   * The functions this node can run, by name: an object of functions (run on this thread); the
   * URL of a module whose exports are the functions, run in a pool of Web Workers (worker
   * threads in Node.js; see `workers`) so the page stays responsive while they compute; or a
   * function that starts one such Web Worker, whose script calls `serveFunctions` from
   * `handout/worker` (the form a bundler builds for production).
   */
  readonly functions: FunctionRegistry | URL | (() => Worker);
  /**
   * Workers in the pool when `functions` is a module URL or a worker factory.
   * @default navigator.hardwareConcurrency (the cores, in Node.js)
   */
  readonly workers?: number | undefined;
  /**
   * This node's id; also names its IndexedDB database. @default kept per tab in
   * sessionStorage when joining a swarm, else crypto.randomUUID()
   */
  readonly id?: string | undefined;
  /**
   * Where results are kept: `'indexeddb'` (database `handout-<id>`), `'memory'`, or a store of
   * your own. @default 'indexeddb' where IndexedDB exists, else 'memory'
   */
  readonly store?: 'indexeddb' | 'memory' | ResultStore | undefined;
  /**
   * Milliseconds the data of the runs this node orchestrates is kept on each peer after its last
   * use there (a run's own `ttl` wins). @default until cleared
   */
  readonly ttl?: number | undefined;
}

/** What {@link HandoutNode.on} listens to. */
export interface NodeEvents extends Omit<TransportEvents, 'message'> {
  'task:ran': TaskRan;
}

/** What {@link HandoutNode.storageEstimate} reports. */
export interface StorageEstimate {
  /** DAGs with data in this node's store, and their items. */
  readonly dags: number;
  readonly items: number;
  /** Bytes used and allowed for this origin, as the browser estimates them (undefined elsewhere). */
  readonly usage: number | undefined;
  readonly quota: number | undefined;
}

/** Options of {@link HandoutNode.result}. */
export interface ResultOptions {
  /** Milliseconds to wait for the room's answer before `RequestTimeoutError`. @default none */
  readonly timeout?: number | undefined;
}

/** A Handout node: runs DAGs and keeps their results. Made by {@link createNode}. */
export interface HandoutNode {
  readonly id: string;
  /** The store holding this node's results. */
  readonly store: ResultStore;
  /**
   * Runs a DAG (across the room when in a swarm) and resolves with the results once every one
   * is stored where it was produced. Rejects with `DagValidationError`, `UnknownFunctionError`,
   * `AllocationError`, `DagRunningError` before anything runs, and with `TaskFailedError`,
   * `StorageError` or `CancelledError` when the run fails.
   */
  execute(dag: Dag, options?: SubmitOptions): Promise<RunResult>;
  /** Starts a run and returns its handle at once: progress events, status, cancel. */
  submit(dag: Dag, options?: SubmitOptions): RunHandle;
  /**
   * Starts a pipeline: the DAG's tasks with `input: true` are fed by `push`, every other task
   * is a stage placed once across the room (pins, collocation, cost and `allocation` as for
   * `execute`; again on another peer when its peer leaves), whose `init` runs once per hosting
   * peer. Items go through in memory and come out in push order. Throws `DagValidationError`
   * (the DAG's relations) and `UnknownFunctionError` at once; the pipeline's shape (an input and
   * a stage at least, no inline tasks or hooks) and options are checked where its engine loads,
   * and like `StageInitError` and `AllocationError` they fail the pipeline: `ready`, `push` and
   * the items reject with them.
   */
  stream(dag: Dag, options?: StreamOptions): Pipeline;
  /**
   * Per-task state and peer of the DAG's latest run, from any peer of the room: this node's own
   * run, else the one its orchestrator reports (finished runs too, until cleared). Rejects with
   * `UnknownDagError` when no peer orchestrated it.
   */
  status(dagId: string): Promise<RunStatus>;
  /**
   * A result of the DAG's latest run, read here or fetched from the peer that holds it (never a
   * value of an earlier run of the same id). Rejects with `UnknownDagError` when no peer knows
   * the DAG or `DataNotFoundError` (either naming the peers that could not be reached or failed
   * to give it, if any), or `RequestTimeoutError` past `timeout`.
   */
  result(dagId: string, taskId: string, options?: ResultOptions): Promise<unknown>;
  /**
   * Removes a DAG's results and cached arguments here and on every peer; others untouched.
   * Refused with `DagRunningError` while a run of it goes on anywhere in the room.
   */
  clear(dagId: string): Promise<void>;
  /** Ids of the DAGs with data in this node's store. */
  dags(): Promise<string[]>;
  /** How much this node keeps, and what the browser allows the origin. */
  storageEstimate(): Promise<StorageEstimate>;
  /**
   * The peers in this node's room, live (empty when local): listed by the coordinator, or linked.
   * `lane` says the pipe while a link to the peer is open; links open on first use.
   */
  peers(): PeerInfo[];
  /**
   * Listens to the swarm: `peer:join`, `peer:leave`, `dropped` (a refused message),
   * `coordinator:down` / `coordinator:up`, and `task:ran` (each attempt this node ran to an
   * outcome, for any run: its own or, in a room, another peer's). Returns a function that stops
   * listening.
   */
  on<E extends keyof NodeEvents>(event: E, listener: (event: NodeEvents[E]) => void): () => void;
  /**
   * Tasks running or queued on this node (for any orchestrator) and the resources they hold:
   * what it advertises to the room. Given a peer's id: what that peer last advertised.
   */
  load(peerId?: string): {
    readonly tasks: number;
    readonly used: Readonly<Record<string, number>>;
  };
  /** Bytes sent to and received from each peer (empty when local): where data really went. */
  traffic(): Record<string, Traffic>;
  /** Links open now, and opened over this node's life (WebRTC connections among them). */
  links(): LinkStats;
  /** Cancels this node's runs, leaves the room and closes its store. */
  close(): Promise<void>;
}
