/**
 * Every failure Handout reports is a {@link HandoutError} with a string-literal `code`,
 * so callers can branch with `err instanceof TaskFailedError` or `switch (err.code)`.
 */

/** The `code` of each {@link HandoutError} subclass. */
export type HandoutErrorCode =
  | 'dag_validation'
  | 'task_failed'
  | 'unknown_function'
  | 'unknown_dag'
  | 'data_not_found'
  | 'storage'
  | 'dag_running'
  | 'allocation'
  | 'cancelled'
  | 'node_closed'
  | 'peer_gone'
  | 'timeout'
  | 'task_timeout'
  | 'remote_error'
  | 'coordinator'
  | 'missing_package'
  | 'stage_init'
  | 'pipeline_closed';

/** Base class of every error Handout throws or rejects with. */
export class HandoutError<Code extends HandoutErrorCode = HandoutErrorCode> extends Error {
  // Names are spelled out, not read from the constructor, so minifiers cannot mangle them.
  override name = 'HandoutError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** What is wrong with a DAG; see {@link DagValidationError}. */
export type DagValidationKind = 'missing_dependency' | 'cycle' | 'duplicate_task' | 'invalid_task';

/**
 * The DAG cannot run as defined. Thrown by `Dag.add` (duplicate ids, malformed tasks) and by
 * `Dag.validate` / `execute` (missing dependencies, cycles, bad placement).
 */
export class DagValidationError extends HandoutError<'dag_validation'> {
  override name = 'DagValidationError';
  /** The task at fault (for a cycle, the task the reported path starts from). */
  readonly taskId: string;
  /** For `cycle`: the whole cycle, first id repeated at the end, e.g. `['a', 'b', 'a']`. */
  readonly cycle: readonly string[] | undefined;

  constructor(
    readonly kind: DagValidationKind,
    taskId: string,
    message: string,
    cycle?: readonly string[],
  ) {
    super('dag_validation', message);
    this.taskId = taskId;
    this.cycle = cycle;
  }
}

/** A task failed for good: its function threw on every allowed attempt. */
export class TaskFailedError extends HandoutError<'task_failed'> {
  override name = 'TaskFailedError';
  constructor(
    readonly dagId: string,
    readonly taskId: string,
    /** Id of the node the last attempt ran on. */
    readonly node: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      'task_failed',
      `task '${taskId}' of DAG ${dagId} failed on node ${node} after ${attempts} attempt(s): ${describeCause(cause)}`,
      { cause },
    );
  }
}

/** A task names a function that is not in the node's function registry. */
export class UnknownFunctionError extends HandoutError<'unknown_function'> {
  override name = 'UnknownFunctionError';
  constructor(
    readonly fn: string,
    readonly taskId: string,
    readonly node: string,
  ) {
    super(
      'unknown_function',
      `task '${taskId}' needs function '${fn}', which node ${node} does not have (register it in createNode({ functions }))`,
    );
  }
}

/** No data of this DAG id exists on the node (it never ran here, or was cleared). */
export class UnknownDagError extends HandoutError<'unknown_dag'> {
  override name = 'UnknownDagError';
  constructor(
    readonly dagId: string,
    detail?: string,
  ) {
    super('unknown_dag', `no DAG with id ${dagId} is known here${detail ? ` (${detail})` : ''}`);
  }
}

/** The DAG is known but holds no item with this id. */
export class DataNotFoundError extends HandoutError<'data_not_found'> {
  override name = 'DataNotFoundError';
  constructor(
    readonly dagId: string,
    readonly dataId: string,
    detail?: string,
  ) {
    super('data_not_found', `no data '${dataId}' in DAG ${dagId}${detail ? ` (${detail})` : ''}`);
  }
}

/** The result store failed (quota exceeded, value not storable, database unavailable). */
export class StorageError extends HandoutError<'storage'> {
  override name = 'StorageError';
  constructor(
    /** What the store was doing: `put`, `get`, `delete`, `clear`, `keys`, `open`... */
    readonly operation: string,
    readonly dagId: string | undefined,
    readonly dataId: string | undefined,
    cause: unknown,
  ) {
    const item = dataId === undefined ? '' : ` item '${dataId}'`;
    const dag = dagId === undefined ? '' : ` of DAG ${dagId}`;
    super('storage', `storage ${operation} failed for${item}${dag}: ${describeCause(cause)}`, {
      cause,
    });
  }
}

/** A DAG with this id is already running, here or elsewhere in the room; runs are never merged. */
export class DagRunningError extends HandoutError<'dag_running'> {
  override name = 'DagRunningError';
  constructor(
    readonly dagId: string,
    /** Where or why, e.g. `it runs on peer B`. @default 'it runs on this node' */
    where = 'it runs on this node',
  ) {
    super('dag_running', `DAG ${dagId} is already running: ${where}`);
  }
}

/** No node can ever run the task as placed (e.g. pinned to a node that is not there). */
export class AllocationError extends HandoutError<'allocation'> {
  override name = 'AllocationError';
  constructor(
    readonly taskId: string,
    readonly node: string | undefined,
    reason: string,
  ) {
    super('allocation', `cannot place task '${taskId}': ${reason}`);
  }
}

/** The run was cancelled (its AbortSignal fired or it was cancelled by the caller). */
export class CancelledError extends HandoutError<'cancelled'> {
  override name = 'CancelledError';
  constructor(
    readonly dagId: string,
    reason?: unknown,
  ) {
    super('cancelled', `run of DAG ${dagId} was cancelled`, { cause: reason });
  }
}

/** The node was closed; it runs and stores nothing more. */
export class NodeClosedError extends HandoutError<'node_closed'> {
  override name = 'NodeClosedError';
  constructor(readonly nodeId: string) {
    super('node_closed', `node ${nodeId} is closed`);
  }
}

/** The peer is not (or no longer) reachable: it left, vanished, or was never in the room. */
export class PeerGoneError extends HandoutError<'peer_gone'> {
  override name = 'PeerGoneError';
  constructor(
    readonly peerId: string,
    reason: string,
  ) {
    super('peer_gone', `peer ${peerId} is gone: ${reason}`);
  }
}

/** A request got no answer in time. */
export class RequestTimeoutError extends HandoutError<'timeout'> {
  override name = 'RequestTimeoutError';
  constructor(
    readonly peerId: string,
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super('timeout', `request '${method}' to peer ${peerId} got no answer in ${timeoutMs} ms`);
  }
}

/** An attempt of a task ran longer than its `timeout`; its signal was aborted with this error. */
export class TaskTimeoutError extends HandoutError<'task_timeout'> {
  override name = 'TaskTimeoutError';
  constructor(
    readonly taskId: string,
    readonly timeoutMs: number,
  ) {
    super('task_timeout', `task '${taskId}' ran longer than its timeout of ${timeoutMs} ms`);
  }
}

/** The remote peer answered a request with an error; its code, message and stack are kept. */
export class RemoteError extends HandoutError<'remote_error'> {
  override name = 'RemoteError';
  constructor(
    readonly peerId: string,
    readonly remoteCode: string,
    remoteMessage: string,
    readonly remoteStack: string | undefined,
  ) {
    super('remote_error', `peer ${peerId} answered with ${remoteCode}: ${remoteMessage}`);
  }
}

/** The coordinator cannot be reached or refused this node. */
export class CoordinatorError extends HandoutError<'coordinator'> {
  override name = 'CoordinatorError';
  constructor(
    readonly url: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('coordinator', `coordinator ${url}: ${reason}`, options);
  }
}

/**
 * A Node.js part of Handout needs a package that is not installed. They are optional peer
 * dependencies, so a web app never installs them; the message names them and the line to run.
 */
export class MissingPackageError extends HandoutError<'missing_package'> {
  override name = 'MissingPackageError';
  /** The command that installs what is missing, e.g. `npm i node-datachannel ws`. */
  readonly install: string;
  constructor(
    readonly packages: readonly string[],
    /** What needs them, e.g. `a Node.js node joining a room`. */
    readonly needer: string,
    options?: { cause?: unknown },
  ) {
    const install = `npm i ${packages.join(' ')}`;
    const names = packages.map((p) => `'${p}'`).join(', ');
    super(
      'missing_package',
      `${needer} needs ${names}, not installed here: run ${install}`,
      options,
    );
    this.install = install;
  }
}

/** A pipeline stage's `init` failed on a peer: the pipeline fails with this. */
export class StageInitError extends HandoutError<'stage_init'> {
  override name = 'StageInitError';
  constructor(
    readonly stageId: string,
    readonly node: string,
    cause: unknown,
  ) {
    const why = describeCause(cause);
    super('stage_init', `init of stage '${stageId}' failed on node ${node}: ${why}`, { cause });
  }
}

/** The pipeline is stopped (or failed, then `cause` says why): it takes no more items. */
export class PipelineClosedError extends HandoutError<'pipeline_closed'> {
  override name = 'PipelineClosedError';
  constructor(
    readonly pipelineId: string,
    cause?: unknown,
  ) {
    const why = cause === undefined ? 'it was stopped' : `it failed: ${describeCause(cause)}`;
    super('pipeline_closed', `pipeline ${pipelineId} takes no more items: ${why}`, { cause });
  }
}

/** A one-line description of anything thrown. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  try {
    return String(cause);
  } catch {
    return 'unprintable error';
  }
}
