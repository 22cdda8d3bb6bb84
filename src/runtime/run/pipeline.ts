import type { Plan, Task } from '../../dag/index.ts';
import {
  type AllocationError,
  PeerGoneError,
  PipelineClosedError,
  RemoteError,
  StageInitError,
  TaskFailedError,
} from '../../errors.ts';
import { nextTask } from '../../next-task.ts';
import type { PeerLoad, Resources } from '../../schedule/placement.ts';
import type {
  Pipeline,
  PipelineStats,
  PushOptions,
  StreamItem,
  StreamOptions,
} from '../base/pipeline-api.ts';
import {
  STAGE_CLOSED,
  type StageCall,
  type StageCalls,
  type StageOpen,
  type StageResults,
} from '../base/stream-messages.ts';
import type { GroupDecision } from './group-placement.ts';
import { PipelineGate } from './pipeline-gate.ts';

/** How a pipeline reaches the peers that host its stages. */
export interface PipelinePorts {
  readonly self: string;
  peers(): readonly PeerLoad[];
  /** Hosts a stage on a peer; resolves once its `init` ran there (false: closed meanwhile). */
  open(peer: string, body: StageOpen): Promise<boolean>;
  send(peer: string, body: StageCalls): void;
  close(peer: string, pipelineId: string): void;
  /** Holds (and gives back) a stage's cost on its peer for the pipeline's life. */
  claim(peer: string, cost: Resources): void;
  release(peer: string, cost: Resources): void;
  /** The pipeline is over: forget it. */
  ended(): void;
}

/** Where stages go: the same rules as a run's tasks (see `GroupPlacement`). */
export interface StagePlacer {
  allocateAll(peers: readonly PeerLoad[]): AllocationError | undefined;
  decide(taskId: string, peers: readonly PeerLoad[]): GroupDecision;
  forget(peer: string): void;
}

interface Stage {
  readonly task: Task;
  readonly index: number;
  /** Index of each argument's producer, in argument order. */
  readonly argIndex: readonly number[];
  readonly dependents: readonly number[];
  readonly sink: boolean;
  /** The peer it is open on; `target` while it opens there. */
  peer: string | undefined;
  target: string | undefined;
  /** Times it was found closed on a live peer and opened again. */
  reopened: number;
  /** Calls waiting for it to be open somewhere. */
  pending: StageCall[];
  /** Items sent and not answered: item id -> attempt. */
  readonly inflight: Map<number, number>;
  done: number;
  failed: number;
}

interface Item {
  readonly id: number;
  values: unknown[];
  readonly missing: number[];
  readonly attempts: number[];
  sinksLeft: number;
}

/** A stage found closed on a live peer this often in a row fails the pipeline. */
const MAX_REOPENS = 3;

/**
 * A pipeline orchestrated here: its stages placed once (again on another peer when theirs
 * leaves), items pushed through them in memory, each stage's outcome routed to its dependents,
 * retried per item, and items delivered in push order.
 */
export class PipelineRun implements Pipeline {
  readonly ready: Promise<void>;
  readonly #gate: PipelineGate;
  readonly #stages: Stage[] = [];
  readonly #byId = new Map<string, Stage>();
  readonly #inputs: number[] = [];
  readonly #inputIds: string[] = [];
  readonly #items = new Map<number, Item>();
  readonly #buffers = new Map<string, StageCall[]>();
  readonly #missing: number[];
  readonly #sinks: Stage[];
  #state: PipelineStats['state'] = 'starting';
  #nextId = 0;
  #pushed = 0;
  #done = 0;
  #failed = 0;
  #flushing = false;
  #opened = 0;
  #readyNow!: () => void;
  #readyFailed!: (error: unknown) => void;
  #stopped: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly dagId: string,
    readonly plan: Plan,
    readonly options: StreamOptions,
    readonly placer: StagePlacer,
    readonly ports: PipelinePorts,
  ) {
    this.#gate = new PipelineGate(options.maxInFlight ?? 64);
    this.ready = new Promise((resolve, reject) => {
      this.#readyNow = resolve;
      this.#readyFailed = reject;
    });
    this.ready.catch(() => undefined); // read through push or the items too
    const index = new Map(plan.order.map((taskId, k) => [taskId, k]));
    const at = (taskId: string) => index.get(taskId) as number;
    this.#missing = plan.order.map((taskId) => plan.deps.get(taskId)?.length ?? 0);
    for (const [k, taskId] of plan.order.entries()) {
      const task = plan.tasks.get(taskId) as Task;
      if (task.input === true) {
        this.#inputs.push(k);
        this.#inputIds.push(taskId);
      }
      const dependents = (plan.dependents.get(taskId) ?? []).map(at);
      const stage: Stage = {
        task: task.timeout === undefined ? { ...task, timeout: options.timeout } : task,
        index: k,
        argIndex: task.args.map((edge) => at(edge.from)),
        dependents,
        sink: task.input !== true && dependents.length === 0,
        peer: undefined,
        target: undefined,
        reopened: 0,
        pending: [],
        inflight: new Map(),
        done: 0,
        failed: 0,
      };
      this.#stages.push(stage);
      if (task.input !== true) this.#byId.set(taskId, stage);
    }
    this.#sinks = this.#stages.filter((s) => s.sink);
    const wrong = placer.allocateAll(ports.peers());
    if (wrong !== undefined) this.#fail(wrong);
    else this.#place();
  }

  async push(value: unknown, options: PushOptions = {}): Promise<number> {
    const inputs = this.#inputsOf(value);
    await this.#gate.admit(options.signal);
    if (this.#state !== 'starting' && this.#state !== 'running') {
      this.#gate.leave();
      throw new PipelineClosedError(this.id);
    }
    const id = this.#nextId++;
    const n = this.#stages.length;
    const item: Item = {
      id,
      values: new Array(n),
      missing: this.#missing.slice(),
      attempts: new Array(n).fill(0),
      sinksLeft: this.#sinks.length,
    };
    this.#items.set(id, item);
    this.#pushed++;
    this.#inputs.forEach((k, j) => {
      item.values[k] = inputs[j];
      this.#produced(this.#stages[k] as Stage, item);
    });
    return id;
  }

  results(): AsyncIterableIterator<StreamItem> {
    const iterator: AsyncIterableIterator<StreamItem> = {
      next: () => this.#gate.next(),
      // A `for await` that breaks (or throws) stops the pipeline.
      return: async () => {
        await this.stop();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    return this.results();
  }

  stop(options: { readonly drain?: boolean | undefined } = {}): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#gate.refuse(new PipelineClosedError(this.id));
    if (options.drain === true && this.#state !== 'failed') {
      this.#state = 'draining';
      this.#stopped = this.#gate.idle().then(() => this.#end('stopped'));
    } else {
      this.#stopped = Promise.resolve(this.#end(this.#state === 'failed' ? 'failed' : 'stopped'));
    }
    return this.#stopped;
  }

  stats(): PipelineStats {
    const stages: Record<string, PipelineStats['stages'][string]> = {};
    for (const [taskId, s] of this.#byId)
      stages[taskId] = {
        peer: s.peer ?? '',
        done: s.done,
        failed: s.failed,
        inFlight: s.inflight.size,
      };
    return {
      state: this.#state,
      pushed: this.#pushed,
      done: this.#done,
      failed: this.#failed,
      inFlight: this.#gate.inFlight,
      stages,
    };
  }

  /** Outcomes from a stage's host; those from a peer that no longer hosts the stage are stale. */
  onResults(from: string, { out }: StageResults): void {
    for (const o of out) {
      const stage = this.#byId.get(o.s);
      if (stage === undefined || stage.peer !== from || stage.inflight.get(o.i) !== o.a) continue;
      if ('e' in o && o.e.code === STAGE_CLOSED) {
        if (++stage.reopened > MAX_REOPENS)
          this.#fail(
            new StageInitError(o.s, from, new RemoteError(from, o.e.code, o.e.message, undefined)),
          );
        else this.#lost(stage);
        continue;
      }
      stage.inflight.delete(o.i);
      const item = this.#items.get(o.i);
      if (!('e' in o)) {
        stage.done++;
        stage.reopened = 0;
        if (item === undefined) continue;
        item.values[stage.index] = o.v;
        this.#produced(stage, item);
        continue;
      }
      stage.failed++;
      if (item === undefined) continue;
      const retries = stage.task.maxRetries ?? this.options.maxRetries ?? 0;
      if (o.a <= retries) {
        item.attempts[stage.index] = o.a;
        this.#call(stage, item);
        continue;
      }
      const cause = new RemoteError(from, o.e.code, o.e.message, o.e.stack);
      this.#finish(item, {
        id: item.id,
        error: new TaskFailedError(this.dagId, o.s, from, o.a, cause),
      });
    }
  }

  /** A peer left: its stages go elsewhere and their items in flight run again there. */
  onPeerLeave(peer: string): void {
    this.placer.forget(peer);
    for (const stage of this.#byId.values())
      if (stage.peer === peer || stage.target === peer) this.#lost(stage);
  }

  /** Capacity may have come free: stages waiting for a peer look again. */
  pump(): void {
    this.#place();
  }

  #inputsOf(value: unknown): unknown[] {
    if (this.#inputIds.length === 1) return [value];
    const given = (typeof value === 'object' && value !== null ? value : {}) as Record<
      string,
      unknown
    >;
    const missing = this.#inputIds.filter((inputId) => !Object.hasOwn(given, inputId));
    if (missing.length > 0)
      throw new TypeError(
        `push: pipeline ${this.id} has inputs ${this.#inputIds.join(', ')}: give an object with a value for each (missing ${missing.join(', ')})`,
      );
    return this.#inputIds.map((inputId) => given[inputId]);
  }

  /** A value of `stage` for `item` exists: dependents whose inputs are all there go. */
  #produced(stage: Stage, item: Item): void {
    for (const d of stage.dependents)
      if (--(item.missing[d] as number) === 0) this.#call(this.#stages[d] as Stage, item);
    if (stage.sink && --item.sinksLeft === 0) {
      const value =
        this.#sinks.length === 1
          ? item.values[stage.index]
          : Object.fromEntries(this.#sinks.map((s) => [s.task.id, item.values[s.index]]));
      this.#finish(item, { id: item.id, value });
    }
  }

  #call(stage: Stage, item: Item): void {
    const a = (item.attempts[stage.index] as number) + 1;
    stage.inflight.set(item.id, a);
    const call = {
      s: stage.task.id,
      i: item.id,
      a,
      args: stage.argIndex.map((k) => item.values[k]),
    };
    if (stage.peer === undefined) stage.pending.push(call);
    else this.#send(stage.peer, call);
  }

  #send(peer: string, call: StageCall): void {
    const buffer = this.#buffers.get(peer);
    if (buffer === undefined) this.#buffers.set(peer, [call]);
    else buffer.push(call);
    if (this.#flushing) return;
    this.#flushing = true;
    nextTask(() => {
      this.#flushing = false;
      const buffers = [...this.#buffers];
      this.#buffers.clear();
      for (const [to, calls] of buffers) this.ports.send(to, { p: this.id, calls });
    });
  }

  #finish(item: Item, out: StreamItem): void {
    this.#items.delete(item.id);
    item.values = [];
    if (out.error === undefined) this.#done++;
    else this.#failed++;
    this.#gate.finish(out);
  }

  /** The stage's peer is gone (or dropped it): its unanswered items wait for a new one. */
  #lost(stage: Stage): void {
    const was = stage.peer ?? stage.target;
    if (was !== undefined) this.ports.release(was, stage.task.cost);
    stage.peer = undefined;
    stage.target = undefined;
    stage.pending = [];
    for (const [i, a] of stage.inflight) {
      const item = this.#items.get(i);
      if (item === undefined) stage.inflight.delete(i);
      else
        stage.pending.push({
          s: stage.task.id,
          i,
          a,
          args: stage.argIndex.map((k) => item.values[k]),
        });
    }
    this.#place();
  }

  #place(): void {
    if (this.#state !== 'starting' && this.#state !== 'running' && this.#state !== 'draining')
      return;
    for (const stage of this.#byId.values()) {
      if (stage.peer !== undefined || stage.target !== undefined) continue;
      const decision = this.placer.decide(stage.task.id, this.ports.peers());
      if (decision.kind === 'wait') continue;
      if (decision.kind === 'never') return this.#fail(decision.error);
      this.#open(stage, decision.peer);
    }
  }

  #open(stage: Stage, peer: string): void {
    const { cost } = stage.task;
    stage.target = peer;
    this.ports.claim(peer, cost);
    this.ports.open(peer, { p: this.id, dagId: this.dagId, stage: stage.task }).then(
      (open) => {
        if (stage.target !== peer) return; // lost meanwhile, placed again
        if (!open) return this.#lost(stage);
        stage.target = undefined;
        stage.peer = peer;
        for (const call of stage.pending.splice(0)) this.#send(peer, call);
        if (++this.#opened === this.#byId.size && this.#state === 'starting') {
          this.#state = 'running';
          this.#readyNow();
        }
      },
      (error: unknown) => {
        if (stage.target !== peer) return;
        if (error instanceof PeerGoneError) return this.onPeerLeave(peer); // left while opening
        this.#fail(new StageInitError(stage.task.id, peer, error));
      },
    );
  }

  #fail(error: unknown): void {
    if (this.#stopped !== undefined) return;
    this.#state = 'failed';
    this.#readyFailed(error);
    this.#gate.refuse(new PipelineClosedError(this.id, error));
    this.#stopped = Promise.resolve(this.#end('failed', error));
  }

  /** Frees every stage on every peer; readers get what is ready, then the end. */
  #end(state: 'stopped' | 'failed', error?: unknown): void {
    this.#state = state;
    this.#readyFailed(new PipelineClosedError(this.id, error));
    this.#gate.end(error);
    const peers = new Set<string>();
    for (const stage of this.#byId.values()) {
      const at = stage.peer ?? stage.target;
      if (at !== undefined) {
        peers.add(at);
        this.ports.release(at, stage.task.cost);
      }
      stage.peer = undefined;
      stage.target = undefined;
      stage.pending = [];
      stage.inflight.clear();
    }
    for (const peer of peers) this.ports.close(peer, this.id);
    this.#items.clear();
    this.ports.ended();
  }
}
