// A module of task functions loaded into each Web Worker of a node's pool (see pool.spec.ts).
import { withContext } from '../../../src/worker.ts';

/** Busy for `ms` milliseconds, blocking the thread it runs on. */
export function spin(ms: number): number {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return ms;
}

/** Where it runs: true in a Web Worker, with the task's context. */
export const where = withContext((ctx, x: unknown) => ({
  x,
  inWorker: typeof (globalThis as { window?: unknown }).window === 'undefined',
  taskId: ctx.taskId,
  nodeId: ctx.nodeId,
}));

/** `n` bytes, byte i = i % 251. */
export function bytes(n: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => i % 251);
}

export function sumBytes(b: Uint8Array): number {
  return b.reduce((s, x) => (s + x) % 1_000_003, 0);
}

export const add = (...xs: number[]) => xs.reduce((s, x) => s + x, 0);
