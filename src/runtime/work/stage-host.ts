import type { Task } from '../../dag/types.ts';
import { UnknownFunctionError } from '../../errors.ts';
import { errorInfo } from '../../net/rpc.ts';
import { nextTask } from '../../next-task.ts';
import type { Resources } from '../../resources.ts';
import {
  type FunctionRegistry,
  invoke,
  lookup,
  type TaskContext,
  type TaskFunction,
} from '../base/functions.ts';
import {
  STAGE_CLOSED,
  type StageCall,
  type StageCalls,
  type StageOpen,
  type StageOutcome,
  type StageResults,
} from '../base/stream-messages.ts';
import { TurnBuffer } from '../base/turn-buffer.ts';
import { deadline, isPromise } from './attempt.ts';

export interface StageHostPorts {
  readonly id: string;
  readonly functions: FunctionRegistry;
  /** Sends outcomes to the pipeline's orchestrator. */
  send(to: string, body: StageResults): void;
  /** Holds a hosted stage's cost here while it is open (`held` false: gives it back). */
  hold?(cost: Resources, held: boolean): void;
}

/** A partial batch waits this long for more items unless the stage says otherwise. */
const BATCH_TIMEOUT_MS = 5;

interface Stage {
  readonly task: Task;
  readonly fn: TaskFunction;
  readonly state: unknown;
  readonly parallelism: number;
  readonly queue: StageCall[];
  running: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Inside `#pump`: a synchronous item that ends lets the loop go on, not a nested pump. */
  pumping: boolean;
}

interface Hosted {
  readonly from: string;
  readonly dagId: string;
  readonly stages: Map<string, Stage>;
  readonly controller: AbortController;
  /** Outcomes leave once per turn, in one message to the orchestrator. */
  readonly outbox: TurnBuffer<StageOutcome>;
}

/**
 * The stages this peer hosts for pipelines, whoever orchestrates them: each stage's `init` run
 * once here, its items run as they come (up to its `parallelism` at once, in batches when it
 * asks), and their outcomes sent back to the orchestrator, many per message. Items stay in
 * memory: nothing is stored.
 */
export class StageHost {
  readonly #pipelines = new Map<string, Hosted>();

  constructor(readonly ports: StageHostPorts) {}

  /** Hosts a stage: resolves once its `init` ran here; rejects with what it threw. */
  async open(from: string, { p, dagId, stage: task }: StageOpen): Promise<boolean> {
    const { id, functions } = this.ports;
    const fn = lookup(functions, task.fn);
    if (fn === undefined) throw new UnknownFunctionError(task.fn, task.id, id);
    const init = task.stage?.init;
    const initFn = init === undefined ? undefined : lookup(functions, init);
    if (init !== undefined && initFn === undefined)
      throw new UnknownFunctionError(init, task.id, id);
    let hosted = this.#pipelines.get(p);
    if (hosted !== undefined && hosted.from !== from)
      throw new Error(`pipeline ${p} here belongs to peer ${hosted.from}`);
    if (hosted === undefined) {
      const outbox = new TurnBuffer<StageOutcome>((to, out) => this.ports.send(to, { p, out }));
      hosted = { from, dagId, stages: new Map(), controller: new AbortController(), outbox };
      this.#pipelines.set(p, hosted);
    }
    const { signal } = hosted.controller;
    const context = (): TaskContext => ({ dagId, taskId: task.id, nodeId: id, attempt: 1, signal });
    const state = initFn === undefined ? undefined : await invoke(initFn, [], context);
    if (signal.aborted || this.#pipelines.get(p) !== hosted) return false; // closed meanwhile
    const before = hosted.stages.get(task.id);
    if (before !== undefined) this.ports.hold?.(before.task.cost, false);
    this.ports.hold?.(task.cost, true);
    hosted.stages.set(task.id, {
      task,
      fn,
      state,
      parallelism: task.stage?.parallelism ?? 1,
      queue: [],
      running: 0,
      timer: undefined,
      pumping: false,
    });
    return true;
  }

  /** Items from the orchestrator; those for a stage not hosted here come back as failures. */
  accept(from: string, { p, calls }: StageCalls): void {
    const hosted = this.#pipelines.get(p);
    const touched = new Set<Stage>();
    const refused: StageOutcome[] = [];
    for (const call of calls) {
      const stage = hosted?.from === from ? hosted.stages.get(call.s) : undefined;
      if (stage === undefined) {
        const e = {
          code: STAGE_CLOSED,
          message: `stage '${call.s}' is not open on ${this.ports.id}`,
        };
        refused.push({ s: call.s, i: call.i, a: call.a, e });
        continue;
      }
      stage.queue.push(call);
      touched.add(stage);
    }
    if (refused.length > 0) nextTask(() => this.ports.send(from, { p, out: refused }));
    if (hosted !== undefined) for (const stage of touched) this.#pump(p, hosted, stage);
  }

  /** The pipeline is over (only its orchestrator may say so): its stages here go. */
  close(from: string, p: string): void {
    const hosted = this.#pipelines.get(p);
    if (hosted === undefined || hosted.from !== from) return;
    this.#pipelines.delete(p);
    hosted.controller.abort(new Error(`pipeline ${p} stopped`));
    for (const stage of hosted.stages.values()) {
      clearTimeout(stage.timer);
      this.ports.hold?.(stage.task.cost, false);
    }
  }

  /** A peer left: the pipelines it orchestrated stop here. */
  forget(peer: string): void {
    for (const [p, hosted] of this.#pipelines) if (hosted.from === peer) this.close(peer, p);
  }

  closeAll(): void {
    for (const [p, hosted] of this.#pipelines) this.close(hosted.from, p);
  }

  /** Stages hosted here, by pipeline (for tests and stats). */
  hosted(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [p, hosted] of this.#pipelines) out[p] = [...hosted.stages.keys()];
    return out;
  }

  #pump(p: string, hosted: Hosted, stage: Stage): void {
    if (stage.pumping) return;
    stage.pumping = true;
    try {
      this.#drain(p, hosted, stage);
    } finally {
      stage.pumping = false;
    }
  }

  #drain(p: string, hosted: Hosted, stage: Stage): void {
    const size = stage.task.stage?.batchSize;
    while (stage.running < stage.parallelism && stage.queue.length > 0) {
      if (size === undefined) {
        this.#run(p, hosted, stage, [stage.queue.shift() as StageCall]);
        continue;
      }
      if (stage.queue.length < size && stage.timer === undefined) {
        // A partial batch waits a little for company; a full one goes at once.
        const wait = stage.task.stage?.batchTimeout ?? BATCH_TIMEOUT_MS;
        stage.timer = setTimeout(() => {
          stage.timer = undefined;
          if (stage.running < stage.parallelism && stage.queue.length > 0)
            this.#run(p, hosted, stage, stage.queue.splice(0, size));
          this.#pump(p, hosted, stage);
        }, wait);
        return;
      }
      if (stage.queue.length < size) return;
      clearTimeout(stage.timer);
      stage.timer = undefined;
      this.#run(p, hosted, stage, stage.queue.splice(0, size));
    }
  }

  /** Runs one call (or one batch); synchronous functions take no promise. */
  #run(p: string, hosted: Hosted, stage: Stage, calls: StageCall[]): void {
    const { task } = stage;
    const batch = task.stage?.batchSize !== undefined;
    const first = calls[0] as StageCall;
    const values = batch
      ? [calls.map((c) => (c.args.length === 1 ? c.args[0] : c.args))]
      : (first.args as unknown[]);
    const args =
      task.argsAsList && !batch ? [values, ...task.extraArgs] : [...values, ...task.extraArgs];
    const run = (signal: AbortSignal) =>
      invoke(stage.fn, args, () => ({
        dagId: hosted.dagId,
        taskId: task.id,
        nodeId: this.ports.id,
        attempt: first.a,
        signal,
        state: stage.state,
        itemId: batch ? undefined : first.i,
      }));
    const { signal } = hosted.controller;
    stage.running++;
    let outcome: unknown;
    try {
      outcome =
        task.timeout === undefined ? run(signal) : deadline(task.timeout, signal, task.id, run);
    } catch (error) {
      this.#ended(p, hosted, stage, calls, undefined, error);
      return;
    }
    if (!isPromise(outcome)) this.#ended(p, hosted, stage, calls, outcome, undefined);
    else
      outcome.then(
        (value) => this.#ended(p, hosted, stage, calls, value, undefined),
        (error: unknown) =>
          this.#ended(p, hosted, stage, calls, undefined, error ?? new Error('failed')),
      );
  }

  #ended(
    p: string,
    hosted: Hosted,
    stage: Stage,
    calls: StageCall[],
    value: unknown,
    error: unknown,
  ) {
    stage.running--;
    if (this.#pipelines.get(p) !== hosted) return; // closed meanwhile: nobody waits for it
    const batch = stage.task.stage?.batchSize !== undefined;
    if (error === undefined && batch && !(Array.isArray(value) && value.length === calls.length))
      error = new TypeError(
        `stage '${stage.task.id}' got a batch of ${calls.length} items and must return an array as long, got ${Array.isArray(value) ? `${value.length} items` : typeof value}`,
      );
    const info = error === undefined ? undefined : errorInfo(error);
    calls.forEach((c, k) => {
      const key = { s: c.s, i: c.i, a: c.a };
      hosted.outbox.add(
        hosted.from,
        info !== undefined
          ? { ...key, e: info }
          : { ...key, v: batch ? (value as unknown[])[k] : value },
      );
    });
    this.#pump(p, hosted, stage);
  }
}
