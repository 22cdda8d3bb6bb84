import type { EpochStatus } from '../base/calls.ts';
import type { RunState, RunStatus } from '../base/run-handle.ts';
import type { Orchestrator } from './orchestrator.ts';
import type { Run as LiveRun, Way } from './run.ts';

/** Finished runs kept for `status` (the oldest go first). */
const FINISHED_RUNS_KEPT = 1000;
/** DAGs remembered as known here (for typed errors) beyond the runs kept. */
const KNOWN_KEPT = 1000;

/** What is left of a run once it is over: its outcome, for `status`. Nothing else is kept. */
class FinishedRun {
  constructor(
    readonly state: RunState,
    readonly epoch: number,
    readonly snapshot: RunStatus,
  ) {}

  status(): RunStatus {
    return this.snapshot;
  }
}

type Kept<W extends Way> = LiveRun<W> | FinishedRun;

/**
 * The runs this node orchestrates, and the last runs it orchestrated: a live run is its `Run`
 * (in a room, its way an `Orchestrator`; on a node alone, `Here`); once over, it shrinks to its final status, so
 * finished runs cost little and only the latest {@link FINISHED_RUNS_KEPT} are kept. Also which
 * DAGs this node has had a part in lately, so a missing item of a known DAG is told from an
 * unknown DAG.
 */
export class RunBook<W extends Way = Orchestrator> {
  readonly #runs = new Map<string, Kept<W>>();
  readonly #known = new Set<string>();

  /** The live run of the DAG here, if any (one still asking the room included). */
  live(dagId: string): LiveRun<W> | undefined {
    const run = this.#runs.get(dagId);
    return run !== undefined && !(run instanceof FinishedRun) && run.state === 'running'
      ? run
      : undefined;
  }

  /** Whether a run of the DAG has started here (not one still asking the room). */
  started(dagId: string): boolean {
    return (this.live(dagId)?.epoch ?? -1) >= 0;
  }

  /** Every live run. */
  *running(): IterableIterator<LiveRun<W>> {
    for (const run of this.#runs.values())
      if (!(run instanceof FinishedRun) && run.state === 'running') yield run;
  }

  /** A new run of the DAG: it replaces any earlier one, and shrinks once it is over. */
  add(dagId: string, run: LiveRun<W>): void {
    this.#runs.delete(dagId); // re-inserted last, so the oldest runs come first
    this.#runs.set(dagId, run);
    this.know(dagId);
    const shrink = () => {
      if (this.#runs.get(dagId) !== run) return;
      this.#runs.set(dagId, new FinishedRun(run.state, run.epoch, run.status()));
    };
    run.done.then(shrink, shrink);
    this.#prune();
  }

  /** The status of the latest run of the DAG orchestrated here, with its epoch. */
  status(dagId: string): EpochStatus | undefined {
    const run = this.#runs.get(dagId);
    return run === undefined ? undefined : { ...run.status(), epoch: run.epoch };
  }

  /** The status of the latest run of the DAG orchestrated here (live or finished). */
  latest(dagId: string): RunStatus | undefined {
    return this.#runs.get(dagId)?.status();
  }

  /** Where the live run of the DAG knows a result to be. */
  locate(dagId: string, dataId: string): string[] {
    return [...(this.live(dagId)?.registry.holders.get(dataId) ?? [])];
  }

  /** The DAG had a part here (run, worked for, or stored). */
  know(dagId: string): void {
    this.#known.delete(dagId);
    this.#known.add(dagId);
    if (this.#known.size > KNOWN_KEPT)
      this.#known.delete(this.#known.values().next().value as string);
  }

  knows(dagId: string): boolean {
    return this.#known.has(dagId) || this.#runs.has(dagId);
  }

  /** Forgets the DAG (it was cleared here), unless a run of it is live. */
  forget(dagId: string): void {
    if (this.live(dagId) === undefined) this.#runs.delete(dagId);
    this.#known.delete(dagId);
  }

  /** Forgets the oldest finished runs beyond what is kept (their data stays where it is). */
  #prune(): void {
    let excess = this.#runs.size - FINISHED_RUNS_KEPT;
    for (const [dagId, run] of this.#runs) {
      if (excess <= 0) return;
      if (!(run instanceof FinishedRun) && run.state === 'running') continue;
      this.#runs.delete(dagId);
      this.know(dagId); // still known, for typed errors
      excess--;
    }
  }
}
