import { DagRunningError } from '../../errors.ts';
import type { Rpc } from '../../net/rpc.ts';
import { type ClaimAnswer, call } from '../base/calls.ts';
import type { Epochs } from '../base/epochs.ts';

/** How long a peer may take to answer a claim; one that does not is taken as not running it. */
const CLAIM_TIMEOUT_MS = 5000;
/** A "yes" given to another peer's claim counts this long (its claim settles well before). */
const GRANT_MS = 3 * CLAIM_TIMEOUT_MS;

export interface ClaimPorts {
  readonly rpc: Rpc;
  readonly epochs: Epochs;
  peers(): string[];
  /** Whether this node runs the DAG now (a started run, not one still asking). */
  running(dagId: string): boolean;
}

/**
 * One run of a dagId at a time in the whole room, and the epoch of the next one. Before a run of
 * a DAG whose id was given (or run before) starts, its orchestrator asks every peer: a peer
 * that runs it says so, and the run fails with `DagRunningError`. Two peers asking at once both
 * hear the other is asking; the earlier asker (as seen by a peer that said yes to it first), or
 * else the lower ticket, goes on and the other fails. The new run's epoch is above every epoch
 * any peer reports for the DAG, and at least the clock's time, so a peer that was away and comes
 * back with an older run's data can never pass it off as this run's.
 */
export class RunClaims {
  /** This node's own claims in progress: dagId -> ticket. */
  readonly #mine = new Map<string, string>();
  /** Claims of others this node said yes to while not asking itself: dagId -> ticket -> when. */
  readonly #granted = new Map<string, Map<string, number>>();

  constructor(readonly ports: ClaimPorts) {}

  /** Whether this node is asking the room about the DAG now. */
  claiming(dagId: string): boolean {
    return this.#mine.has(dagId);
  }

  /** Asks the room; resolves with the new run's epoch, or rejects with `DagRunningError`. */
  async claim(dagId: string): Promise<number> {
    const ticket = crypto.randomUUID();
    this.#mine.set(dagId, ticket);
    try {
      const peers = this.ports.peers();
      const answers = await Promise.all(peers.map((peer) => this.#ask(peer, dagId, ticket)));
      const granted = this.#grantsFor(dagId);
      for (const [i, answer] of answers.entries()) {
        const peer = peers[i] as string;
        if (answer.running) throw new DagRunningError(dagId, `it runs on peer ${peer}`);
        const theirs = answer.claiming;
        if (theirs !== null && (granted.has(theirs) || theirs < ticket))
          throw new DagRunningError(dagId, `peer ${peer} is starting it`);
      }
      this.#granted.delete(dagId);
      const known = Math.max(
        await this.ports.epochs.current(dagId),
        ...answers.map((a) => a.epoch),
      );
      return Math.max(known + 1, Date.now());
    } finally {
      this.#mine.delete(dagId);
    }
  }

  /** Answers another peer's claim. */
  async answer(dagId: string, ticket: string): Promise<ClaimAnswer> {
    const epoch = await this.ports.epochs.current(dagId);
    if (this.ports.running(dagId)) return { running: true, claiming: null, epoch };
    const mine = this.#mine.get(dagId);
    if (mine !== undefined) return { running: false, claiming: mine, epoch };
    const granted = this.#grantsFor(dagId);
    granted.set(ticket, Date.now());
    this.#granted.set(dagId, granted);
    return { running: false, claiming: null, epoch };
  }

  async #ask(peer: string, dagId: string, ticket: string): Promise<ClaimAnswer> {
    try {
      return await call(
        this.ports.rpc,
        peer,
        'run.claim',
        { dagId, ticket },
        { timeoutMs: CLAIM_TIMEOUT_MS },
      );
    } catch {
      // Gone or silent: it is leaving the room, and cannot start anything meanwhile.
      return { running: false, claiming: null, epoch: 0 };
    }
  }

  /** The yeses still counting for the DAG (older ones are forgotten). */
  #grantsFor(dagId: string): Map<string, number> {
    const granted = this.#granted.get(dagId) ?? new Map<string, number>();
    const now = Date.now();
    for (const [ticket, at] of granted) if (now - at > GRANT_MS) granted.delete(ticket);
    if (granted.size === 0) this.#granted.delete(dagId);
    // Keep the map small under a flood of claims for many DAGs.
    if (this.#granted.size > 1000)
      this.#granted.delete(this.#granted.keys().next().value as string);
    return granted;
  }
}
