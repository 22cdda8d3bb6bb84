import type { Plan, Task } from '../../dag/index.ts';
import { type AllocationError, PeerGoneError, StageInitError } from '../../errors.ts';
import type { PeerLoad, PeerView, Resources } from '../../schedule/placement.ts';
import type { StageStats, StreamOptions } from '../base/pipeline-api.ts';
import type { StageCall, StageCalls, StageOpen } from '../base/stream-messages.ts';
import { TurnBuffer } from '../base/turn-buffer.ts';
import type { GroupDecision } from './group-placement.ts';

/** How a pipeline reaches the peers that host its stages. */
export interface PipelinePorts {
  readonly self: string;
  peers(): PeerView;
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
  decide(taskId: string, peers: PeerView): GroupDecision;
  forget(peer: string): void;
}

/** A task of the pipeline's DAG (an input, or a stage) and, for a stage, where it runs. */
export interface Stage {
  readonly task: Task;
  readonly index: number;
  /** Index of each argument's producer, in argument order. */
  readonly argIndex: readonly number[];
  readonly dependents: readonly number[];
  readonly sink: boolean;
  /** The peer it is open on; `target` while it opens there. */
  peer: string | undefined;
  target: string | undefined;
  /** Opened somewhere at least once. */
  opened: boolean;
  /** Times in a row its peer said it did not host it (it restarted, say). */
  reopened: number;
  /** Calls waiting for it to be open somewhere. */
  pending: StageCall[];
  /** Items sent and not answered: item id -> attempt. */
  readonly inflight: Map<number, number>;
  done: number;
  failed: number;
}

/** What the stages need from their pipeline. */
export interface StagesHost {
  readonly id: string;
  readonly dagId: string;
  /** Still placing and opening stages (not stopped or failed). */
  active(): boolean;
  /** The arguments of an item for a stage; undefined once the item is over. */
  argsOf(stage: Stage, itemId: number): unknown[] | undefined;
  /** Every stage opened once: the pipeline is ready. */
  ready(): void;
  fail(error: unknown): void;
}

/**
 * A pipeline's tasks in topological order and where its stages run: placed once, opened on
 * their peer (its `init` runs there), placed again when that peer leaves or drops them, and
 * sent their items, a turn's calls to one peer in one message.
 */
export class PipelineStages {
  readonly all: Stage[] = [];
  readonly byId = new Map<string, Stage>();
  /** Calls leave once per turn, a peer's in one message. */
  readonly #outbox: TurnBuffer<StageCall>;
  #unopened: number;

  constructor(
    plan: Plan,
    options: StreamOptions,
    readonly placer: StagePlacer,
    readonly ports: PipelinePorts,
    readonly host: StagesHost,
  ) {
    const index = new Map(plan.order.map((taskId, k) => [taskId, k]));
    const at = (taskId: string) => index.get(taskId) as number;
    for (const [k, taskId] of plan.order.entries()) {
      const task = plan.tasks.get(taskId) as Task;
      const dependents = (plan.dependents.get(taskId) ?? []).map(at);
      const stage: Stage = {
        task: task.timeout === undefined ? { ...task, timeout: options.timeout } : task,
        index: k,
        argIndex: task.args.map((edge) => at(edge.from)),
        dependents,
        sink: task.input !== true && dependents.length === 0,
        peer: undefined,
        target: undefined,
        opened: false,
        reopened: 0,
        pending: [],
        inflight: new Map(),
        done: 0,
        failed: 0,
      };
      this.all.push(stage);
      if (task.input !== true) this.byId.set(taskId, stage);
    }
    this.#unopened = this.byId.size;
    this.#outbox = new TurnBuffer((peer, calls) => ports.send(peer, { p: host.id, calls }));
  }

  /** Places every stage (asking a custom allocator once), or fails the pipeline. */
  start(): void {
    const wrong = this.placer.allocateAll(this.ports.peers().all());
    if (wrong !== undefined) this.host.fail(wrong);
    else this.place();
  }

  /** Sends an item's attempt to the stage's peer, or keeps it until the stage is open. */
  call(stage: Stage, itemId: number, attempt: number, args: unknown[]): void {
    stage.inflight.set(itemId, attempt);
    const call = { s: stage.task.id, i: itemId, a: attempt, args };
    if (stage.peer === undefined) stage.pending.push(call);
    else this.#outbox.add(stage.peer, call);
  }

  /** The stage's peer is gone (or dropped it): its unanswered items wait for a new one. */
  lost(stage: Stage): void {
    const was = stage.peer ?? stage.target;
    if (was !== undefined) this.ports.release(was, stage.task.cost);
    stage.peer = undefined;
    stage.target = undefined;
    stage.pending = [];
    for (const [i, a] of stage.inflight) {
      const args = this.host.argsOf(stage, i);
      if (args === undefined) stage.inflight.delete(i);
      else stage.pending.push({ s: stage.task.id, i, a, args });
    }
    this.place();
  }

  /** A peer left: its stages go elsewhere and their items in flight run again there. */
  onPeerLeave(peer: string): void {
    this.placer.forget(peer);
    for (const stage of this.byId.values())
      if (stage.peer === peer || stage.target === peer) this.lost(stage);
  }

  /** Stages without a peer look for one (capacity may have come free). */
  place(): void {
    if (!this.host.active()) return;
    for (const stage of this.byId.values()) {
      if (stage.peer !== undefined || stage.target !== undefined) continue;
      const decision = this.placer.decide(stage.task.id, this.ports.peers());
      if (decision.kind === 'wait') continue;
      if (decision.kind === 'never') return this.host.fail(decision.error);
      this.#open(stage, decision.peer);
    }
  }

  stats(): Record<string, StageStats> {
    const out: Record<string, StageStats> = {};
    for (const [taskId, s] of this.byId)
      out[taskId] = {
        peer: s.peer ?? '',
        done: s.done,
        failed: s.failed,
        inFlight: s.inflight.size,
      };
    return out;
  }

  /** Frees every stage on every peer. */
  end(): void {
    const peers = new Set<string>();
    for (const stage of this.byId.values()) {
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
    for (const peer of peers) this.ports.close(peer, this.host.id);
  }

  #open(stage: Stage, peer: string): void {
    const { cost } = stage.task;
    stage.target = peer;
    this.ports.claim(peer, cost);
    const body = { p: this.host.id, dagId: this.host.dagId, stage: stage.task };
    this.ports.open(peer, body).then(
      (open) => {
        if (stage.target !== peer) return; // lost meanwhile, placed again
        if (!open) return this.lost(stage);
        stage.target = undefined;
        stage.peer = peer;
        for (const call of stage.pending.splice(0)) this.#outbox.add(peer, call);
        if (!stage.opened) {
          stage.opened = true;
          if (--this.#unopened === 0) this.host.ready();
        }
      },
      (error: unknown) => {
        if (stage.target !== peer) return;
        if (error instanceof PeerGoneError) return this.onPeerLeave(peer); // left while opening
        this.host.fail(new StageInitError(stage.task.id, peer, error));
      },
    );
  }
}
