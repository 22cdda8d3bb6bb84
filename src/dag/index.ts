export { Dag, hasGeneratedId } from './dag.ts';
export type { Plan } from './plan.ts';
export type {
  ArgEdge,
  ArgRef,
  InputSpec,
  Placement,
  StageSpec,
  Task,
  TaskSpec,
} from './types.ts';
