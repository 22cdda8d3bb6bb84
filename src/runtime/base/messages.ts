import type { Task } from '../../dag/types.ts';
import type { RemoteErrorInfo } from '../../net/protocol.ts';

/**
 * What orchestrators and workers say to each other, above the transport: topic names and body
 * shapes. The checks every received body passes before it is used are in `message-checks.ts`;
 * the requests and their answers in `calls.ts`.
 */
export const Topic = {
  /**
   * Between orchestrators and workers, everything one peer sends another in one turn:
   * `{ orders?: TaskOrder[], reports?: TaskReport[], over?: RunKey[] }` (runs that are over).
   */
  batch: 'run.batch',
  /** worker -> everyone: Load */
  load: 'peer.load',
  /** orchestrator -> everyone: { dagId, epoch }: a new run of a DAG given by name begins */
  begin: 'run.begin',
} as const;

/** One attempt of one task of one run. */
export interface AttemptKey {
  readonly dagId: string;
  readonly epoch: number;
  readonly taskId: string;
  readonly attempt: number;
}

/** A task as dispatched: everything the worker needs, no code. */
export interface TaskOrder {
  readonly dagId: string;
  /** Which run of the DAG (see `Epochs`). */
  readonly epoch: number;
  /** Which dispatch of the task this is: a report names it, and an older one's is stale. */
  readonly attempt: number;
  /**
   * The attempt as its function (`ctx.attempt`) and `task:ran` count it: dispatches, less those
   * sent ahead and called back before they ran. @default attempt (an orchestrator of 0.1.0)
   */
  readonly tries?: number | undefined;
  readonly task: Task;
  /** Inline producers the task evaluates itself (transitively). */
  readonly inline: readonly Task[];
  /** Holders of each scheduled producer's result. */
  readonly locations: Readonly<Record<string, readonly string[]>>;
  /**
   * Sent before its inputs exist (every producer pinned): each location is where the producer
   * will run, and the worker waits there for the value instead of failing to find it.
   */
  readonly early?: boolean | undefined;
  /** Milliseconds the task's function may run: the task's own `timeout`, else the run's. */
  readonly timeout?: number | undefined;
  /** Milliseconds the run's data is kept on this worker after its last use. @default forever */
  readonly ttl?: number | undefined;
}

export interface Fetch {
  readonly argId: string;
  readonly from: string;
  readonly bytes: number;
  readonly ms: number;
  /** The pipe it came over: 'same-browser', 'webrtc', 'memory'; '' when not known. */
  readonly lane: string;
}

export type TaskReport =
  | {
      readonly dagId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: 'started';
    }
  | {
      readonly dagId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: 'done';
      readonly bytes: number;
      /** Small results ride along; `hasValue` tells a carried `undefined` from none. */
      readonly hasValue: boolean;
      readonly value?: unknown;
      readonly fetched: readonly Fetch[];
    }
  /** The result reported done is now durable in the worker's store (or failed to be). */
  | {
      readonly dagId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: 'stored';
    }
  | {
      readonly dagId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: 'unstored';
      readonly error: RemoteErrorInfo;
    }
  | {
      readonly dagId: string;
      readonly taskId: string;
      readonly attempt: number;
      readonly kind: 'failed';
      readonly error: RemoteErrorInfo;
      /** False when retrying cannot help (an unknown function, a cost that never fits). */
      readonly retryable: boolean;
      /**
       * Set when no listed holder could hand over an argument (they left, or lost it): not the
       * task's fault, so it costs no retry, and the orchestrator forgets those holders.
       */
      readonly lost?: LostInput | undefined;
    };

/** An argument no holder could provide, and the holders that were tried. */
export interface LostInput {
  readonly argId: string;
  readonly holders: readonly string[];
}

export interface Load {
  readonly used: Readonly<Record<string, number>>;
  readonly tasks: number;
}

/** One run of a DAG. */
export interface RunKey {
  readonly dagId: string;
  readonly epoch: number;
}
