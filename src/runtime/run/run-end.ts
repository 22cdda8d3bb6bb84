import type { RunResult, RunState } from '../base/run-handle.ts';
import { gather, runResult } from './gather.ts';
import type { RunPorts } from './run.ts';
import type { TaskTable } from './task-table.ts';

/** What the end of a run needs to know of the run. */
export interface RunEndHost {
  readonly dagId: string;
  readonly table: TaskTable;
  readonly ports: Pick<RunPorts, 'release' | 'over' | 'fetch'>;
  /** Which run of the DAG this is; -1 while the room is asked whether it may start. */
  epoch(): number;
  /** Places what is ready again (a result lost while gathering sent the run back to work). */
  pump(): void;
}

/**
 * How a run ends, exactly once: with its results, gathered once every task is done and stored,
 * or with an error; either way every peer that took part hears it.
 */
export class RunEnd {
  readonly done: Promise<RunResult>;
  /** The peers sent a task of this run, told when it ends. */
  readonly participants = new Set<string>();
  #state: RunState = 'running';
  /** Results are being gathered; a loss meanwhile sends the run back to work. */
  #collecting = false;
  #resolve!: (result: RunResult) => void;
  #reject!: (error: unknown) => void;
  #unlisten: () => void = () => undefined;

  constructor(readonly host: RunEndHost) {
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get state(): RunState {
    return this.#state;
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  /** Calls `onAbort` when `signal` aborts, until the run ends. */
  listen(signal: AbortSignal, onAbort: () => void): void {
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unlisten = () => signal.removeEventListener('abort', onAbort);
  }

  /** Gathers the results and resolves, once every task is done and stored. */
  maybeFinish(): void {
    const { table } = this.host;
    if (!this.running || this.host.epoch() < 0 || this.#collecting || !table.complete) return;
    this.#collecting = true;
    void this.#collect().then(
      (result) => {
        this.#collecting = false;
        if (!this.running) return;
        // A result was lost while gathering: the run goes back to work and gathers again later.
        if (result === undefined || !table.complete) {
          this.maybeFinish();
          this.host.pump();
          return;
        }
        this.#state = 'done';
        this.#unlisten();
        // Workers hear the run is over: they drop abandoned early attempts, forget the run's
        // orchestrator (only it could clear the DAG while it ran) and start the data's ttl.
        this.#over();
        this.#resolve(result);
      },
      (error: unknown) => {
        this.#collecting = false;
        this.fail(error, 'failed');
      },
    );
  }

  /** Ends the run with `error`: what is in flight gives its capacity back, the peers hear it. */
  fail(error: unknown, state: RunState): void {
    if (!this.running) return;
    this.#state = state;
    this.#unlisten();
    const { ports } = this.host;
    for (const slot of this.host.table.slots.values()) {
      if (slot.state === 'placed' || slot.state === 'running')
        ports.release(slot.peer as string, slot.task.cost);
    }
    if (this.participants.size > 0) this.#over();
    this.#reject(error);
  }

  #over(): void {
    const { ports, dagId } = this.host;
    ports.over([...this.participants], dagId, this.host.epoch());
  }

  /** Gathers what was asked for; undefined when some result turned out lost (made again). */
  async #collect(): Promise<RunResult | undefined> {
    const { dagId, table, ports } = this.host;
    const epoch = this.host.epoch();
    const fetch = (peer: string, id: string) => ports.fetch(peer, dagId, epoch, id);
    const { results, lost } = await gather(table, fetch);
    if (this.running) for (const id of lost) table.lost(id);
    return lost.length > 0 ? undefined : runResult(dagId, table, results);
  }
}
