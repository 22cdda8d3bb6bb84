import { DagRunningError, PeerGoneError, RemoteError } from '../../errors.ts';
import type { Rpc } from '../../net/rpc.ts';
import { call, type EpochStatus } from '../base/calls.ts';
import type { RunStatus } from '../base/run-handle.ts';

/** How long a peer may take to say what it knows of a run. */
const ASK_TIMEOUT_MS = 5000;

export interface RoomRunsPorts {
  readonly id: string;
  readonly rpc: Rpc;
  peers(): string[];
  /** The latest run of the DAG this node orchestrated, if any. */
  local(dagId: string): EpochStatus | undefined;
}

/**
 * What the room knows of a DAG's runs: their status (each orchestrator answers for its own),
 * whether one runs now and where, and clearing a DAG on every peer.
 */
export class RoomRuns {
  constructor(readonly ports: RoomRunsPorts) {}

  /** The status of the DAG's latest run anywhere in the room; undefined when nobody ran it. */
  async status(dagId: string): Promise<RunStatus | undefined> {
    let latest = this.ports.local(dagId);
    for (const { status } of await this.#statuses(dagId))
      if (latest === undefined || status.epoch > latest.epoch) latest = status;
    if (latest === undefined) return undefined;
    const { epoch: _, ...status } = latest;
    return status;
  }

  /** The peer running (or starting) a run of the DAG, if one does. */
  async runningAt(dagId: string): Promise<string | undefined> {
    for (const { peer, status } of await this.#statuses(dagId))
      if (status.state === 'running') return peer;
    return undefined;
  }

  /**
   * Whether `origin` still runs the DAG's run `epoch`. Only a gone orchestrator, or one that
   * says so, ends it: one that does not answer may still be running it.
   */
  async live(origin: { from: string; epoch: number }, dagId: string): Promise<boolean> {
    try {
      const answer = await call(
        this.ports.rpc,
        origin.from,
        'run.status',
        { dagId },
        { timeoutMs: ASK_TIMEOUT_MS },
      );
      return answer?.state === 'running' && answer.epoch === origin.epoch;
    } catch (error) {
      return !(error instanceof PeerGoneError);
    }
  }

  /**
   * Removes the DAG's data on every peer. A peer that still works for a run of it (the run
   * began after we asked) refuses, and so does this with `DagRunningError`. Each peer reached
   * marks the DAG cleared at `epoch` or later. A peer that is gone or silent keeps its copy (a
   * later run of the DAG wipes it there), which the marks keep from ever reading as a result.
   */
  async clearEverywhere(dagId: string, epoch: number): Promise<void> {
    const refusals = await Promise.all(
      this.ports.peers().map(async (peer) => {
        try {
          const body = { dagId, epoch };
          await call(this.ports.rpc, peer, 'data.clear', body, { timeoutMs: ASK_TIMEOUT_MS });
          return undefined;
        } catch (error) {
          return error instanceof RemoteError && error.remoteCode === 'dag_running'
            ? peer
            : undefined;
        }
      }),
    );
    const refused = refusals.find((peer) => peer !== undefined);
    if (refused !== undefined)
      throw new DagRunningError(dagId, `peer ${refused} works for a run of it now`);
  }

  async #statuses(dagId: string): Promise<{ peer: string; status: EpochStatus }[]> {
    const answers = await Promise.all(
      this.ports.peers().map(async (peer) => {
        try {
          const status = await call(
            this.ports.rpc,
            peer,
            'run.status',
            { dagId },
            { timeoutMs: ASK_TIMEOUT_MS },
          );
          return status === null ? undefined : { peer, status };
        } catch {
          return undefined; // gone or silent: it cannot be running anything we could wait for
        }
      }),
    );
    return answers.filter((a) => a !== undefined);
  }
}
