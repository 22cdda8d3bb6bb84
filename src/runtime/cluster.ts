import type { Dag, Plan } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { ValueCache } from '../data/value-cache.ts';
import { Emitter } from '../emitter.ts';
import { DagRunningError, UnknownDagError } from '../errors.ts';
import { Rpc } from '../net/rpc.ts';
import type { DroppedMessage, Transport } from '../net/transport.ts';
import type { Resources } from '../resources.ts';
import { call } from './base/calls.ts';
import { Epochs } from './base/epochs.ts';
import type { FunctionRegistry } from './base/functions.ts';
import { type AttemptKey, type Load, type TaskReport, Topic } from './base/messages.ts';
import type { RunHandle, RunStatus, SubmitOptions } from './base/run-handle.ts';
import { ClusterStreams } from './cluster-streams.ts';
import { deliver, listen, runnerPorts } from './cluster-wire.ts';
import type { Engine } from './engine.ts';
import { Outbox } from './outbox.ts';
import { LoadBook } from './run/load-book.ts';
import { orchestrate } from './run/orchestrator.ts';
import { RoomRuns } from './run/room-runs.ts';
import { RunBook } from './run/run-book.ts';
import { RunClaims } from './run/run-claims.ts';
import { DataService } from './serve/data-service.ts';
import type { Expiry } from './serve/expiry.ts';
import { TaskRunner } from './work/task-runner.ts';

export interface ClusterOptions {
  readonly id: string;
  readonly transport: Transport;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly capabilities: Resources;
  /** Keeps each DAG's time-to-live here. */
  readonly expiry?: Expiry | undefined;
}

/** How often live runs look for attempts no worker has spoken of for {@link SILENT_MS}. */
const SWEEP_MS = 5000;
const SILENT_MS = 10_000;

/**
 * A node in a swarm: it orchestrates the runs submitted to it, works for every orchestrator in
 * the room, and serves the results it holds straight to the peers that need them.
 */
export class Cluster implements Engine {
  readonly rpc: Rpc;
  readonly runner: TaskRunner;
  readonly book: LoadBook;
  readonly cache = new ValueCache();
  readonly data: DataService;
  readonly epochs: Epochs;
  readonly claims: RunClaims;
  readonly room: RoomRuns;
  /** The runs orchestrated here (the last finished ones too), and the DAGs known here. */
  readonly runs = new RunBook();
  readonly streams: ClusterStreams;
  /** Bodies that passed the transport's checks but not the runtime's. */
  readonly dropped = new Emitter<{ dropped: Omit<DroppedMessage, 'total'> }>();
  readonly #outbox = new Outbox((peer, batch) => deliver(this, peer, batch));
  #loadTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #sweeper: ReturnType<typeof setInterval>;
  readonly #off: (() => void)[] = [];

  constructor(readonly options: ClusterOptions) {
    const { id, transport, store } = options;
    this.rpc = new Rpc(transport, 60_000);
    this.book = new LoadBook(id);
    // A later run of a DAG reaching this node first wipes what it holds of earlier ones.
    this.epochs = new Epochs(store, async (dagId, epoch) => {
      this.runner.cancel(dagId, epoch - 1);
      this.cache.clearDag(dagId);
      this.data.offers.drop((offer) => offer.dagId === dagId);
      await store.clearDag(dagId);
    });
    this.runner = new TaskRunner({
      id,
      functions: options.functions,
      store,
      cache: this.cache,
      epochs: this.epochs,
      capabilities: options.capabilities,
      ports: runnerPorts(this, (orchestrator, report) => this.#outbox.report(orchestrator, report)),
    });
    const peers = () => transport.peers().map((p) => p.id);
    this.data = new DataService({
      id,
      rpc: this.rpc,
      cache: this.cache,
      store,
      epochs: this.epochs,
      functions: options.functions,
      waitFor: (dagId, dataId, signal) => this.runner.waitFor(dagId, dataId, signal),
      knows: (dagId) => this.runs.knows(dagId),
      peers,
    });
    this.claims = new RunClaims({
      rpc: this.rpc,
      epochs: this.epochs,
      peers,
      running: (dagId) => this.runs.started(dagId),
    });
    this.room = new RoomRuns({
      id,
      rpc: this.rpc,
      peers,
      local: (dagId) => this.runs.status(dagId),
    });
    this.streams = new ClusterStreams(this);
    this.book.setPeer(id, options.capabilities);
    for (const peer of transport.peers()) this.book.setPeer(peer.id, peer.capabilities);
    this.#off.push(
      transport.on('peer:join', (peer) => {
        this.book.setPeer(peer.id, peer.capabilities);
        this.pumpAll();
      }),
      transport.on('peer:leave', (peer) => {
        this.book.removePeer(peer.id);
        for (const run of this.runs.running()) run.way.onPeerLeave(peer.id);
        this.runner.forget(peer.id); // its runs' work here is for nobody now
        this.streams.onPeerLeave(peer.id);
        this.data.offers.drop((offer) => offer.peer === peer.id);
      }),
      ...listen(this),
    );
    // A deadline, not the hot path: it may fire late (a hidden tab) without harm.
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS);
    (this.#sweeper as { unref?: () => void }).unref?.();
  }

  /**
   * Starts a run of the DAG from this node. A DAG whose id `new Dag()` generated, run for the
   * first time, starts at once (epoch 0); any other first asks the room (see {@link RunClaims}).
   */
  submit(dag: Dag, plan: Plan, options: SubmitOptions, fresh: boolean): RunHandle {
    if (this.runs.live(dag.id) !== undefined || this.claims.claiming(dag.id))
      throw new DagRunningError(dag.id);
    if (options.ttl !== undefined) this.options.expiry?.touch(dag.id, options.ttl);
    const run = orchestrate(
      dag.id,
      plan,
      {
        self: this.options.id,
        book: this.book,
        dispatch: (peer, order) => this.#outbox.order(peer, order),
        over: (peers, dagId, epoch) => {
          for (const peer of peers) this.#outbox.over(peer, { dagId, epoch });
        },
        fetch: (peer, dagId, epoch, dataId) => this.data.fetch(peer, { dagId, epoch, dataId }),
      },
      options,
      fresh ? 0 : this.claims.claim(dag.id).then((epoch) => this.#announce(dag.id, epoch)),
    );
    this.runs.add(dag.id, run);
    return {
      dagId: dag.id,
      done: run.done,
      status: () => run.status(),
      on: (event, listener) => run.events.on(event, listener),
      cancel: (reason) => run.cancel(reason),
    };
  }

  /** The latest run of the DAG in the room: this node's, else the one its orchestrator reports. */
  async status(dagId: string): Promise<RunStatus> {
    // A started run here is the latest: nobody else may run this DAG meanwhile.
    const here = this.runs.started(dagId) ? this.runs.live(dagId) : undefined;
    const found = here?.status() ?? (await this.room.status(dagId));
    if (found === undefined) throw new UnknownDagError(dagId);
    return found;
  }

  isRunning(dagId: string): boolean {
    return this.runs.live(dagId) !== undefined;
  }

  /** What this node's runner runs now, and each task it ran to an outcome (see {@link Engine}). */
  get load(): Load {
    return this.runner.load;
  }

  get ran(): TaskRunner['ran'] {
    return this.runner.ran;
  }

  /** Whether the DAG has any work here: orchestrated or worked for. */
  isBusy(dagId: string): boolean {
    return this.isRunning(dagId) || this.runner.busyWith(dagId);
  }

  /** A result of the DAG's latest run, from anywhere in the room. */
  result(dagId: string, taskId: string, timeoutMs?: number): Promise<unknown> {
    return this.data.result(dagId, taskId, timeoutMs);
  }

  /**
   * Removes a DAG's data here and on every peer. Refused with `DagRunningError` while a run of
   * it goes on anywhere in the room: only its orchestrator ends a run.
   */
  async clear(dagId: string): Promise<void> {
    if (this.isRunning(dagId) || this.claims.claiming(dagId)) throw new DagRunningError(dagId);
    const where = await this.room.runningAt(dagId);
    if (where !== undefined) throw new DagRunningError(dagId, `it runs on peer ${where}`);
    await this.room.clearEverywhere(dagId, await this.clearHere(dagId));
  }

  /** Removes a DAG's data on this node only (its time-to-live passed). */
  async expire(dagId: string): Promise<void> {
    await this.clearHere(dagId);
  }

  close(): void {
    clearTimeout(this.#loadTimer);
    clearInterval(this.#sweeper);
    this.#outbox.close();
    for (const off of this.#off) off();
    for (const run of [...this.runs.running()]) run.cancel('node closed');
    this.streams.close();
    this.rpc.close();
  }

  /**
   * A run is over (its orchestrator said so): its work here stops, its values leave the cache
   * (they stay in the store) and its data's ttl starts. False when `from` is not the run's
   * orchestrator, who alone may end it.
   */
  over(from: string, dagId: string, epoch: number): boolean {
    const origin = this.runner.origin(dagId);
    if (from !== this.options.id && origin !== undefined && origin.from !== from) return false;
    if (origin === undefined && from !== this.options.id) return true; // over here already
    this.runner.cancel(dagId, epoch);
    if (this.runner.origin(dagId) === undefined) this.cache.clearDag(dagId);
    this.options.expiry?.restart(dagId);
    return true;
  }

  /** Drops what this node holds of runs of the DAG before `epoch` (a failing store: kept). */
  adopt(dagId: string, epoch: number): void {
    Promise.resolve(this.epochs.check(dagId, epoch)).catch(() => undefined);
  }

  /**
   * Removes a DAG's data on this node only; resolves with the epoch that marks it cleared (at
   * least `at`, the clearing peer's).
   */
  async clearHere(dagId: string, at?: number): Promise<number> {
    this.options.expiry?.forget(dagId);
    this.runs.forget(dagId);
    this.runner.cancel(dagId, await this.epochs.current(dagId));
    this.cache.clearDag(dagId);
    this.data.offers.drop((offer) => offer.dagId === dagId);
    await this.options.store.clearDag(dagId);
    return this.epochs.cleared(dagId, at);
  }

  /** Reports reach their runs. */
  route(from: string, reports: readonly TaskReport[]): void {
    for (const report of reports) this.runs.live(report.dagId)?.way.onReport(from, report);
  }

  /** Tells the room how busy this worker is, at most every 25 ms. */
  loadChanged(load: Load): void {
    this.book.advertise(this.options.id, load);
    if (this.#loadTimer !== undefined) return;
    this.#loadTimer = setTimeout(() => {
      this.#loadTimer = undefined;
      const current = this.runner.load;
      // Only to peers linked now: whoever sent us work is; a load is no reason to open a link.
      for (const peer of this.options.transport.peers()) {
        if (peer.lane !== undefined)
          void this.rpc.notify(peer.id, Topic.load, current).catch(() => undefined);
      }
      this.pumpAll();
    }, 25);
  }

  pumpAll(): void {
    for (const run of this.runs.running()) run.pump();
    this.streams.pumpAll();
  }

  /**
   * A new run of a named DAG begins: every peer drops what it holds of earlier runs now, not
   * only the peers the run happens to reach (a peer away now does so when it next hears of it).
   */
  #announce(dagId: string, epoch: number): number {
    this.adopt(dagId, epoch);
    for (const peer of this.options.transport.peers())
      void this.rpc.notify(peer.id, Topic.begin, { dagId, epoch }).catch(() => undefined);
    return epoch;
  }

  /** Asks after attempts that went silent, so no run waits forever on a lost order or report. */
  #sweep(): void {
    const has = async (peer: string, key: AttemptKey): Promise<boolean> =>
      peer === this.options.id
        ? this.runner.has(key)
        : call(this.rpc, peer, 'run.has', key, { timeoutMs: SWEEP_MS });
    for (const run of this.runs.running()) run.way.sweep(SILENT_MS, has);
  }
}
