import type { Dag } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { ValueCache } from '../data/value-cache.ts';
import { Emitter } from '../emitter.ts';
import { DagRunningError, UnknownDagError } from '../errors.ts';
import type { Capabilities } from '../net/protocol.ts';
import { Rpc } from '../net/rpc.ts';
import type { DroppedMessage, Transport } from '../net/transport.ts';
import { DataService, WAIT_TIMEOUT_MS } from './data-service.ts';
import { Epochs } from './epochs.ts';
import type { Expiry } from './expiry.ts';
import type { FunctionRegistry } from './functions.ts';
import { LoadBook } from './load-book.ts';
import {
  type Load,
  Method,
  parseClaim,
  parseDagId,
  parseKey,
  parseLoad,
  parseOrders,
  parseReports,
  parseRun,
  type TaskOrder,
  type TaskReport,
  Topic,
} from './messages.ts';
import { Orchestrator } from './orchestrator.ts';
import { Outbox } from './outbox.ts';
import { RoomRuns } from './room-runs.ts';
import { RunClaims } from './run-claims.ts';
import type { RunHandle, RunStatus, SubmitOptions } from './run-handle.ts';
import { Worker } from './worker.ts';

export interface ClusterOptions {
  readonly id: string;
  readonly transport: Transport;
  readonly functions: FunctionRegistry;
  readonly store: ResultStore;
  readonly capabilities: Capabilities;
  /** Keeps each DAG's time-to-live here. */
  readonly expiry?: Expiry | undefined;
}

/** Finished runs whose registries are kept for `status` (the oldest go first). */
const FINISHED_RUNS_KEPT = 1000;

/**
 * A node in a swarm: it orchestrates the runs submitted to it, works for every orchestrator in
 * the room, and serves the results it holds straight to the peers that need them.
 */
export class Cluster {
  readonly rpc: Rpc;
  readonly worker: Worker;
  readonly book = new LoadBook();
  readonly cache = new ValueCache();
  readonly data: DataService;
  readonly epochs: Epochs;
  readonly claims: RunClaims;
  readonly room: RoomRuns;
  /** Bodies that passed the transport's checks but not the runtime's. */
  readonly dropped = new Emitter<{ dropped: Omit<DroppedMessage, 'total'> }>();
  /** Runs orchestrated here, finished ones included, so their registries answer `locate`. */
  readonly #runs = new Map<string, Orchestrator>();
  /** DAGs this node has any part in, so it can tell an unknown DAG from a missing item. */
  readonly #known = new Set<string>();
  readonly #outbox = new Outbox((peer, orders, reports) => this.#deliver(peer, orders, reports));
  #loadTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #off: (() => void)[] = [];

  constructor(readonly options: ClusterOptions) {
    const { id, transport, store } = options;
    this.rpc = new Rpc(transport, 60_000);
    // A later run of a DAG reaching this node first wipes what it holds of earlier ones.
    this.epochs = new Epochs(store, async (dagId, epoch) => {
      this.worker.cancel(dagId, epoch - 1);
      this.cache.clearDag(dagId);
      await store.clearDag(dagId);
    });
    this.worker = new Worker({
      id,
      functions: options.functions,
      store,
      cache: this.cache,
      epochs: this.epochs,
      capabilities: options.capabilities,
      ports: {
        report: (orchestrator, report) => this.#outbox.report(orchestrator, report),
        fetch: (peer, dagId, epoch, dataId, serialize, wait) =>
          this.rpc.request(
            peer,
            Method.get,
            {
              wait: wait === true,
              dagId,
              epoch,
              dataId,
              serialize: serialize?.fn,
              consumerTaskId: serialize?.consumerTaskId,
            },
            // A waiting fetch lasts as long as its producer takes (a cancel ends it sooner).
            { timeoutMs: wait === true ? WAIT_TIMEOUT_MS : undefined },
          ),
        locate: async (orchestrator, dagId, dataId) =>
          orchestrator === id
            ? this.#locate(dagId, dataId)
            : ((await this.rpc.request(orchestrator, Method.locate, {
                dagId,
                dataId,
              })) as string[]),
        loadChanged: (load) => this.#loadChanged(load),
      },
    });
    this.book.setPeer(id, options.capabilities);
    for (const peer of transport.peers()) this.book.setPeer(peer.id, peer.capabilities);
    this.#off.push(
      transport.on('peer:join', (peer) => {
        this.book.setPeer(peer.id, peer.capabilities);
        this.#pumpAll();
      }),
      transport.on('peer:leave', (peer) => {
        this.book.removePeer(peer.id);
        for (const run of this.#runs.values()) run.onPeerLeave(peer.id);
        this.worker.forget(peer.id); // its runs' work here is for nobody now
      }),
    );
    this.data = new DataService({
      id,
      rpc: this.rpc,
      cache: this.cache,
      store,
      epochs: this.epochs,
      functions: options.functions,
      waitFor: (dagId, dataId, signal) => this.worker.waitFor(dagId, dataId, signal),
      knows: (dagId) => this.#knows(dagId),
      peers: () => transport.peers().map((p) => p.id),
    });
    const peers = () => transport.peers().map((p) => p.id);
    this.claims = new RunClaims({
      rpc: this.rpc,
      epochs: this.epochs,
      peers,
      running: (dagId) => this.#started(dagId),
    });
    this.room = new RoomRuns({
      id,
      rpc: this.rpc,
      peers,
      local: (dagId) => this.#localStatus(dagId),
    });
    this.#listen();
  }

  /**
   * Starts a run of the DAG from this node. A DAG whose id `new Dag()` generated, run for the
   * first time, starts at once (epoch 0); any other first asks the room (see {@link RunClaims}).
   */
  submit(dag: Dag, options: SubmitOptions, fresh: boolean): RunHandle {
    const running = this.#runs.get(dag.id);
    if (running?.state === 'running' || this.claims.claiming(dag.id))
      throw new DagRunningError(dag.id);
    const plan = dag.validate();
    this.#known.add(dag.id);
    if (options.ttl !== undefined) this.options.expiry?.touch(dag.id, options.ttl);
    const run = new Orchestrator(
      dag.id,
      plan,
      {
        self: this.options.id,
        book: this.book,
        dispatch: (peer, order) => this.#outbox.order(peer, order),
        over: (peers, dagId, epoch) => {
          for (const peer of peers) {
            if (peer === this.options.id) this.#over(peer, dagId, epoch);
            else void this.rpc.notify(peer, Topic.cancel, { dagId, epoch }).catch(() => undefined);
          }
        },
        fetch: (peer, dagId, epoch, dataId) => this.data.get(peer, dagId, epoch, dataId),
      },
      options,
      fresh ? 0 : this.claims.claim(dag.id).then((epoch) => this.#announce(dag.id, epoch)),
    );
    this.#runs.delete(dag.id); // re-inserted last, so the oldest runs come first
    this.#runs.set(dag.id, run);
    this.#prune();
    return {
      dagId: dag.id,
      done: run.done,
      status: () => run.status(),
      on: (event, listener) => run.events.on(event, listener),
      cancel: (reason) => run.cancel(reason),
    };
  }

  /** The latest run of the DAG in the room: this node's, else the one its orchestrator reports. */
  status(dagId: string): Promise<RunStatus> {
    const here = this.#runs.get(dagId);
    // A started run here is the latest: nobody else may run this DAG meanwhile.
    if (here !== undefined && this.#started(dagId)) return Promise.resolve(here.status());
    return this.room.status(dagId).then((found) => {
      if (found === undefined) throw new UnknownDagError(dagId);
      return found;
    });
  }

  isRunning(dagId: string): boolean {
    return this.#runs.get(dagId)?.state === 'running';
  }

  /** Whether the DAG has any work here: orchestrated or worked for. */
  isBusy(dagId: string): boolean {
    return this.isRunning(dagId) || this.worker.busyWith(dagId);
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
    await this.#clearHere(dagId);
    this.#runs.delete(dagId);
    await this.room.clearEverywhere(dagId);
  }

  close(): void {
    clearTimeout(this.#loadTimer);
    this.#outbox.close();
    for (const off of this.#off) off();
    for (const run of this.#runs.values()) if (run.state === 'running') run.cancel('node closed');
    this.rpc.close();
  }

  #listen(): void {
    const { rpc, worker } = this;
    const guard =
      <T>(handle: (from: string, body: T) => void, parse: (body: unknown) => T) =>
      ({ from, body }: { from: string; body: unknown }) => {
        let parsed: T;
        try {
          parsed = parse(body);
        } catch (error) {
          // Malformed: dropped and reported, nothing runs.
          this.dropped.emit('dropped', { from, reason: 'malformed', detail: String(error) });
          return;
        }
        handle(from, parsed);
      };
    const refuse = (from: string, detail: string) =>
      this.dropped.emit('dropped', { from, reason: 'unauthorized', detail });
    this.#off.push(
      rpc.onNotify(
        Topic.tasks,
        guard((from, orders) => {
          for (const order of orders) {
            this.#known.add(order.dagId);
            if (order.ttl !== undefined) this.options.expiry?.touch(order.dagId, order.ttl);
          }
          worker.accept(from, orders);
        }, parseOrders),
      ),
      rpc.onNotify(
        Topic.reports,
        guard((from, reports) => this.#route(from, reports), parseReports),
      ),
      rpc.onNotify(
        Topic.cancel,
        guard((from, { dagId, epoch }) => {
          if (!this.#over(from, dagId, epoch))
            refuse(from, `cancel of DAG ${dagId}, whose run here another peer orchestrates`);
        }, parseRun),
      ),
      rpc.onNotify(
        Topic.begin,
        guard((_from, { dagId, epoch }) => this.#adopt(dagId, epoch), parseRun),
      ),
      rpc.onNotify(
        Topic.load,
        guard((from, load) => {
          this.book.advertise(from, load);
          this.#pumpAll();
        }, parseLoad),
      ),
    );
    this.data.serve();
    rpc.handle(Method.clear, async (body, from) => {
      const dagId = parseDagId(body);
      // Only a run's orchestrator ends it: a clear from anyone else waits for the run to end.
      if (this.isRunning(dagId) || this.claims.claiming(dagId))
        throw new DagRunningError(dagId, `it runs on peer ${this.options.id}`);
      const origin = this.worker.origin(dagId);
      if (origin !== undefined && origin.from !== from && (await this.room.live(origin, dagId))) {
        refuse(from, `clear of DAG ${dagId}, whose run peer ${origin.from} orchestrates`);
        throw new DagRunningError(dagId, `it runs on peer ${origin.from}`);
      }
      await this.#clearHere(dagId);
      return true;
    });
    rpc.handle(Method.claim, (body) => {
      const { dagId, ticket } = parseClaim(body);
      return this.claims.answer(dagId, ticket);
    });
    rpc.handle(Method.status, (body) => this.#localStatus(parseDagId(body)) ?? null);
    rpc.handle(Method.locate, (body) => {
      const { dagId, dataId } = parseKey(body);
      return this.#locate(dagId, dataId);
    });
  }

  /**
   * A run is over (its orchestrator said so): its work here stops, its values leave the cache
   * (they stay in the store) and its data's ttl starts. False when `from` is not the run's
   * orchestrator, who alone may end it.
   */
  #over(from: string, dagId: string, epoch: number): boolean {
    const origin = this.worker.origin(dagId);
    if (from !== this.options.id && origin !== undefined && origin.from !== from) return false;
    if (origin === undefined && from !== this.options.id) return true; // over here already
    this.worker.cancel(dagId, epoch);
    if (this.worker.origin(dagId) === undefined) this.cache.clearDag(dagId);
    this.options.expiry?.restart(dagId);
    return true;
  }

  /**
   * A new run of a named DAG begins: every peer drops what it holds of earlier runs now, not
   * only the peers the run happens to reach (a peer away now does so when it next hears of it).
   */
  #announce(dagId: string, epoch: number): number {
    this.#adopt(dagId, epoch);
    for (const peer of this.options.transport.peers())
      void this.rpc.notify(peer.id, Topic.begin, { dagId, epoch }).catch(() => undefined);
    return epoch;
  }

  /** Drops what this node holds of runs of the DAG before `epoch` (a failing store: kept). */
  #adopt(dagId: string, epoch: number): void {
    Promise.resolve(this.epochs.check(dagId, epoch)).catch(() => undefined);
  }

  /** Whether a run of the DAG has started here (not one still asking the room). */
  #started(dagId: string): boolean {
    const run = this.#runs.get(dagId);
    return run?.state === 'running' && run.epoch >= 0;
  }

  /** The status of the latest run of the DAG this node orchestrated, with its epoch. */
  #localStatus(dagId: string): (RunStatus & { epoch: number }) | undefined {
    const run = this.#runs.get(dagId);
    if (run === undefined) return undefined;
    return { ...run.status(), epoch: run.epoch };
  }

  /** Forgets the oldest finished runs beyond what is kept (their data stays where it is). */
  #prune(): void {
    let excess = this.#runs.size - FINISHED_RUNS_KEPT;
    for (const [dagId, run] of this.#runs) {
      if (excess <= 0) return;
      if (run.state === 'running') continue;
      this.#runs.delete(dagId);
      this.#known.add(dagId); // still known, for typed errors
      excess--;
    }
  }

  #route(from: string, reports: readonly TaskReport[]): void {
    for (const report of reports) this.#runs.get(report.dagId)?.onReport(from, report);
  }

  #locate(dagId: string, dataId: string): string[] {
    return [...(this.#runs.get(dagId)?.registry.holders.get(dataId) ?? [])];
  }

  #knows(dagId: string): boolean {
    return this.#known.has(dagId) || this.#runs.has(dagId);
  }

  /** Removes a DAG's data on this node only (its time-to-live passed). */
  expire(dagId: string): Promise<void> {
    return this.#clearHere(dagId);
  }

  async #clearHere(dagId: string): Promise<void> {
    this.options.expiry?.forget(dagId);
    if (this.#runs.get(dagId)?.state !== 'running') this.#runs.delete(dagId);
    this.worker.cancel(dagId, await this.epochs.current(dagId));
    this.cache.clearDag(dagId);
    this.#known.delete(dagId);
    await this.options.store.clearDag(dagId);
    await this.epochs.forget(dagId);
  }

  /** Hands a batch to its peer: the local worker and runs directly, others over the wire. */
  #deliver(peer: string, orders: TaskOrder[], reports: TaskReport[]): void {
    const self = this.options.id;
    if (peer === self) {
      if (orders.length > 0) this.worker.accept(self, orders);
      if (reports.length > 0) this.#route(self, reports);
      return;
    }
    // A peer that is gone: its tasks are placed again when its leave is noticed.
    if (orders.length > 0) void this.rpc.notify(peer, Topic.tasks, orders).catch(() => undefined);
    if (reports.length > 0)
      void this.rpc.notify(peer, Topic.reports, reports).catch(() => undefined);
  }

  /** Tells the room how busy this worker is, at most every 25 ms. */
  #loadChanged(load: Load): void {
    this.book.advertise(this.options.id, load);
    if (this.#loadTimer !== undefined) return;
    this.#loadTimer = setTimeout(() => {
      this.#loadTimer = undefined;
      const current = this.worker.load;
      for (const peer of this.options.transport.peers()) {
        void this.rpc.notify(peer.id, Topic.load, current).catch(() => undefined);
      }
      this.#pumpAll();
    }, 25);
  }

  #pumpAll(): void {
    for (const run of this.#runs.values()) run.pump();
  }
}
