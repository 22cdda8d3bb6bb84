/**
 * Where a node keeps the run (epoch) its data of each DAG belongs to: a DAG id no `Dag` can
 * have. Apart from `epochs.ts`, which only a room loads, so a lone node's page need not.
 */
export const RUNS_DAG = '\u0000handout:runs';
