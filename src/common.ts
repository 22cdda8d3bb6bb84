/**
 * What both entry points (the browser's `index.ts`, Node.js's `node/index.ts`) export: everything
 * but `createNode` and the stores only one platform has.
 */

export type {
  ArgEdge,
  ArgRef,
  InputSpec,
  Placement,
  StageSpec,
  Task,
  TaskSpec,
} from './dag/index.ts';
export { Dag } from './dag/index.ts';
export { createMemoryStore } from './data/memory-store.ts';
export type { ResultStore } from './data/store.ts';
export type { DagValidationKind, HandoutErrorCode } from './errors.ts';
export {
  AllocationError,
  CancelledError,
  CoordinatorError,
  DagRunningError,
  DagValidationError,
  DataNotFoundError,
  HandoutError,
  NodeClosedError,
  PeerGoneError,
  PipelineClosedError,
  RemoteError,
  RequestTimeoutError,
  StageInitError,
  StorageError,
  TaskFailedError,
  TaskTimeoutError,
  UnknownDagError,
  UnknownFunctionError,
} from './errors.ts';
export type { Lane } from './net/channel.ts';
export type { LinkStats } from './net/connector.ts';
export type { SameBrowserOption } from './net/lanes.ts';
export type { DropReason } from './net/protocol.ts';
export type { DroppedMessage, PeerInfo, Traffic } from './net/transport.ts';
export type { Resources } from './resources.ts';
export type {
  ContextFunction,
  EdgeContext,
  FunctionRegistry,
  PlainFunction,
  TaskContext,
  TaskFunction,
} from './runtime/base/functions.ts';
export { withContext } from './runtime/base/functions.ts';
export type {
  Pipeline,
  PipelineStats,
  PushOptions,
  StageStats,
  StreamItem,
  StreamOptions,
} from './runtime/base/pipeline-api.ts';
export type {
  RunEvents,
  RunHandle,
  RunOptions,
  RunResult,
  RunState,
  RunStatus,
  SubmitOptions,
  TaskRan,
  TaskState,
  TaskStatus,
} from './runtime/base/run-handle.ts';
export type {
  HandoutNode,
  NodeEvents,
  NodeOptions,
  ResultOptions,
  StorageEstimate,
} from './runtime/node-api.ts';
export type { SwarmOptions } from './runtime/swarm.ts';
export { detectCapabilities } from './runtime/swarm.ts';
export type {
  Allocation,
  Allocator,
  AllocatorPeer,
  AllocatorTask,
} from './schedule/allocation.ts';
