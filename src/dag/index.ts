export { Dag, hasGeneratedId } from './dag.ts';
export type { Plan } from './plan.ts';
export type { ArgEdge, ArgRef, Placement, Task, TaskSpec } from './types.ts';
