import type { Plan } from '../../dag/index.ts';
import { PipelineClosedError, RemoteError, StageInitError, TaskFailedError } from '../../errors.ts';
import type {
  Pipeline,
  PipelineStats,
  PushOptions,
  StreamItem,
  StreamOptions,
} from '../base/pipeline-api.ts';
import { STAGE_CLOSED, type StageOutcome, type StageResults } from '../base/stream-messages.ts';
import { PipelineGate } from './pipeline-gate.ts';
import {
  type PipelinePorts,
  PipelineStages,
  type Stage,
  type StagePlacer,
} from './pipeline-stages.ts';

export type { PipelinePorts, StagePlacer };

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
 * A pipeline orchestrated here: items pushed through its stages in memory, each stage's
 * outcome routed to its dependents, retried per item, and items delivered in push order. Where
 * the stages run is {@link PipelineStages}'s business.
 */
export class PipelineRun implements Pipeline {
  readonly ready: Promise<void>;
  readonly #gate: PipelineGate;
  readonly #stages: PipelineStages;
  readonly #inputs: Stage[];
  readonly #inputIds: string[];
  readonly #sinks: Stage[];
  readonly #missing: number[];
  readonly #items = new Map<number, Item>();
  #state: PipelineStats['state'] = 'starting';
  #nextId = 0;
  #pushed = 0;
  #done = 0;
  #failed = 0;
  #readyNow!: () => void;
  #readyFailed!: (error: unknown) => void;
  #stopped: Promise<void> | undefined;

  constructor(
    readonly id: string,
    readonly dagId: string,
    plan: Plan,
    readonly options: StreamOptions,
    placer: StagePlacer,
    readonly ports: PipelinePorts,
  ) {
    this.#gate = new PipelineGate(options.maxInFlight ?? 64);
    this.ready = new Promise((resolve, reject) => {
      this.#readyNow = resolve;
      this.#readyFailed = reject;
    });
    this.ready.catch(() => undefined); // read through push or the items too
    this.#stages = new PipelineStages(plan, options, placer, ports, {
      id,
      dagId,
      active: () => this.#stopped === undefined || this.#state === 'draining',
      argsOf: (stage, itemId) => {
        const item = this.#items.get(itemId);
        return item === undefined ? undefined : stage.argIndex.map((k) => item.values[k]);
      },
      ready: () => {
        if (this.#state === 'starting') this.#state = 'running';
        this.#readyNow();
      },
      fail: (error) => this.#fail(error),
    });
    const all = this.#stages.all;
    this.#inputs = all.filter((s) => s.task.input === true);
    this.#inputIds = this.#inputs.map((s) => s.task.id);
    this.#sinks = all.filter((s) => s.sink);
    this.#missing = all.map((s) => plan.deps.get(s.task.id)?.length ?? 0);
    this.#stages.start();
  }

  async push(value: unknown, options: PushOptions = {}): Promise<number> {
    const inputs = this.#inputsOf(value);
    await this.#gate.admit(options.signal);
    if (this.#state !== 'starting' && this.#state !== 'running') {
      this.#gate.leave();
      throw new PipelineClosedError(this.id);
    }
    const id = this.#nextId++;
    const n = this.#stages.all.length;
    const item: Item = {
      id,
      values: new Array(n),
      missing: this.#missing.slice(),
      attempts: new Array(n).fill(0),
      sinksLeft: this.#sinks.length,
    };
    this.#items.set(id, item);
    this.#pushed++;
    this.#inputs.forEach((input, j) => {
      item.values[input.index] = inputs[j];
      this.#produced(input, item);
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
    if (options.drain === true) {
      this.#state = 'draining';
      this.#stopped = this.#gate.idle().then(() => this.#end('stopped'));
    } else {
      this.#stopped = Promise.resolve(this.#end('stopped'));
    }
    return this.#stopped;
  }

  stats(): PipelineStats {
    return {
      state: this.#state,
      pushed: this.#pushed,
      done: this.#done,
      failed: this.#failed,
      inFlight: this.#gate.inFlight,
      stages: this.#stages.stats(),
    };
  }

  /** Outcomes from a stage's host; those from a peer that no longer hosts the stage are stale. */
  onResults(from: string, { out }: StageResults): void {
    for (const o of out) {
      const stage = this.#stages.byId.get(o.s);
      if (stage === undefined || stage.peer !== from || stage.inflight.get(o.i) !== o.a) continue;
      if ('e' in o && o.e.code === STAGE_CLOSED) this.#closedThere(stage, from, o.e.message);
      else this.#outcome(stage, from, o);
    }
  }

  /** A peer left: its stages go elsewhere and their items in flight run again there. */
  onPeerLeave(peer: string): void {
    this.#stages.onPeerLeave(peer);
  }

  /** Capacity may have come free: stages waiting for a peer look again. */
  pump(): void {
    this.#stages.place();
  }

  #outcome(stage: Stage, from: string, o: StageOutcome): void {
    stage.inflight.delete(o.i);
    const item = this.#items.get(o.i);
    if (!('e' in o)) {
      stage.done++;
      stage.reopened = 0;
      if (item === undefined) return;
      item.values[stage.index] = o.v;
      this.#produced(stage, item);
      return;
    }
    stage.failed++;
    if (item === undefined) return;
    const retries = stage.task.maxRetries ?? this.options.maxRetries ?? 0;
    if (o.a <= retries) {
      item.attempts[stage.index] = o.a;
      this.#call(stage, item);
      return;
    }
    const cause = new RemoteError(from, o.e.code, o.e.message, o.e.stack);
    const error = new TaskFailedError(this.dagId, o.s, from, o.a, cause);
    this.#finish(item, { id: item.id, error });
  }

  /** The stage's peer no longer hosts it (it restarted): open it again, a few times at most. */
  #closedThere(stage: Stage, from: string, message: string): void {
    if (++stage.reopened <= MAX_REOPENS) return this.#stages.lost(stage);
    const cause = new RemoteError(from, STAGE_CLOSED, message, undefined);
    this.#fail(new StageInitError(stage.task.id, from, cause));
  }

  #inputsOf(value: unknown): unknown[] {
    const ids = this.#inputIds;
    if (ids.length === 1) return [value];
    const given = (typeof value === 'object' && value !== null ? value : {}) as Record<
      string,
      unknown
    >;
    const missing = ids.filter((inputId) => !Object.hasOwn(given, inputId));
    if (missing.length > 0)
      throw new TypeError(
        `push: pipeline ${this.id} has inputs ${ids.join(', ')}: give an object with a value for each (missing ${missing.join(', ')})`,
      );
    return ids.map((inputId) => given[inputId]);
  }

  /** A value of `stage` for `item` exists: dependents whose inputs are all there go. */
  #produced(stage: Stage, item: Item): void {
    const { all } = this.#stages;
    for (const d of stage.dependents)
      if (--(item.missing[d] as number) === 0) this.#call(all[d] as Stage, item);
    if (stage.sink && --item.sinksLeft === 0) {
      const value =
        this.#sinks.length === 1
          ? item.values[stage.index]
          : Object.fromEntries(this.#sinks.map((s) => [s.task.id, item.values[s.index]]));
      this.#finish(item, { id: item.id, value });
    }
  }

  #call(stage: Stage, item: Item): void {
    const attempt = (item.attempts[stage.index] as number) + 1;
    this.#stages.call(
      stage,
      item.id,
      attempt,
      stage.argIndex.map((k) => item.values[k]),
    );
  }

  #finish(item: Item, out: StreamItem): void {
    this.#items.delete(item.id);
    item.values = [];
    if (out.error === undefined) this.#done++;
    else this.#failed++;
    this.#gate.finish(out);
  }

  #fail(error: unknown): void {
    if (this.#stopped !== undefined && this.#state !== 'draining') return;
    this.#readyFailed(error);
    this.#gate.refuse(new PipelineClosedError(this.id, error));
    this.#stopped = Promise.resolve(this.#end('failed', error));
  }

  /** Frees every stage on every peer; readers get what is ready, then the end. */
  #end(state: 'stopped' | 'failed', error?: unknown): void {
    if (this.#state === 'stopped' || this.#state === 'failed') return;
    this.#state = state;
    this.#readyFailed(new PipelineClosedError(this.id, error));
    this.#gate.end(error);
    this.#stages.end();
    this.#items.clear();
    this.ports.ended();
  }
}
