import type { Dag } from '../dag/index.ts';
import type { ResultStore } from '../data/store.ts';
import { ValueCache } from '../data/value-cache.ts';
import { Emitter } from '../emitter.ts';
import { DagRunningError } from '../errors.ts';
import type { Capabilities } from '../net/protocol.ts';
import { Rpc } from '../net/rpc.ts';
import type { DroppedMessage, Transport } from '../net/transport.ts';
import { DataService, FIND_TIMEOUT_MS, WAIT_TIMEOUT_MS } from './data-service.ts';
import type { Expiry } from './expiry.ts';
import type { FunctionRegistry } from './functions.ts';
import { LoadBook } from './load-book.ts';
import {
  type Load,
  Method,
  parseDagId,
  parseKey,
  parseLoad,
  parseOrders,
  parseReports,
  type TaskOrder,
  type TaskReport,
  Topic,
} from './messages.ts';
import { Orchestrator } from './orchestrator.ts';
import { Outbox } from './outbox.ts';
import type { RunHandle, SubmitOptions } from './run-handle.ts';
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
    this.worker = new Worker({
      id,
      functions: options.functions,
      store,
      cache: this.cache,
      capabilities: options.capabilities,
      ports: {
        report: (orchestrator, report) => this.#outbox.report(orchestrator, report),
        fetch: (peer, dagId, dataId, serialize, wait) =>
          this.rpc.request(
            peer,
            Method.get,
            {
              wait: wait === true,
              dagId,
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
      functions: options.functions,
      waitFor: (dagId, dataId, signal) => this.worker.waitFor(dagId, dataId, signal),
      knows: (dagId) => this.#knows(dagId),
      peers: () => transport.peers().map((p) => p.id),
    });
    this.#listen();
  }

  submit(dag: Dag, options: SubmitOptions): RunHandle {
    const running = this.#runs.get(dag.id);
    if (running?.state === 'running') throw new DagRunningError(dag.id);
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
        cancel: (peers, dagId) => {
          for (const peer of peers) {
            if (peer === this.options.id) this.#over(peer, dagId);
            else void this.rpc.notify(peer, Topic.cancel, { dagId }).catch(() => undefined);
          }
        },
        fetch: (peer, dagId, dataId) => this.data.get(peer, dagId, dataId),
      },
      options,
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

  status(dagId: string) {
    return this.#runs.get(dagId)?.status();
  }

  isRunning(dagId: string): boolean {
    return this.#runs.get(dagId)?.state === 'running';
  }

  /** Whether the DAG has any work here: orchestrated or worked for. */
  isBusy(dagId: string): boolean {
    return this.isRunning(dagId) || this.worker.busyWith(dagId);
  }

  /** A result from anywhere in the room: here, else from a peer that holds it. */
  result(dagId: string, taskId: string): Promise<unknown> {
    return this.data.result(dagId, taskId);
  }

  /** Removes a DAG's data here and on every peer; resolves with each peer's outcome. */
  async clear(dagId: string): Promise<Record<string, 'cleared' | 'unreachable'>> {
    if (this.isRunning(dagId)) throw new DagRunningError(dagId);
    await this.#clearHere(dagId);
    this.#runs.delete(dagId);
    const peers = this.options.transport.peers().map((p) => p.id);
    const outcomes = await Promise.all(
      peers.map(async (peer): Promise<[string, 'cleared' | 'unreachable']> => {
        try {
          await this.rpc.request(peer, Method.clear, { dagId }, { timeoutMs: FIND_TIMEOUT_MS });
          return [peer, 'cleared'];
        } catch {
          return [peer, 'unreachable'];
        }
      }),
    );
    return Object.fromEntries(outcomes);
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
        guard((from, dagId) => this.#over(from, dagId), parseDagId),
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
    rpc.handle(Method.clear, async (body) => {
      await this.#clearHere(parseDagId(body));
      return true;
    });
    rpc.handle(Method.locate, (body) => {
      const { dagId, dataId } = parseKey(body);
      return this.#locate(dagId, dataId);
    });
  }

  /** A run is over (its orchestrator said so): its work here stops, its data's ttl starts. */
  #over(from: string, dagId: string): void {
    if (from !== this.options.id && this.worker.origin(dagId) !== from) return; // not theirs
    this.worker.cancel(dagId);
    this.options.expiry?.restart(dagId);
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
    this.worker.cancel(dagId);
    this.cache.clearDag(dagId);
    this.#known.delete(dagId);
    await this.options.store.clearDag(dagId);
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
