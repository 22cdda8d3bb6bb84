// Task functions every test peer registers, tabs and Node.js workers alike (the Node.js worker
// CLI loads this module with `--functions`).
import { withContext } from '../../../src/index.ts';

export const identity = (x: unknown) => x;
export const multiply = (a: number, b: number) => a * b;
export const add = (...xs: number[]) => xs.reduce((s, x) => s + x, 0);
export const format = (x: unknown) => `value: ${String(x)}`;
export const bytes = (n: number) => new Uint8Array(n).map((_, i) => i % 251);
export const length = (b: Uint8Array) => b.length;
/** A checksum of bytes, so a consumer proves it got them intact. */
export const sumBytes = (b: Uint8Array) => b.reduce((s, x) => (s + x) % 1_000_003, 0);
export const nodeOf = withContext((ctx) => ctx.nodeId);
export const tag = withContext((ctx, x: unknown) => ({ x, on: ctx.nodeId }));
/** Where it ran: a browser tab or a Node.js process. */
export const runtime = withContext((ctx, x: unknown) => ({
  x,
  on: ctx.nodeId,
  in: typeof (globalThis as { document?: unknown }).document === 'undefined' ? 'node' : 'browser',
}));
/** Each byte x becomes 255 - x: a pipeline stage that hands on as much as it got. */
export const invertBytes = (b: Uint8Array) => b.map((x) => 255 - x);
/** `mib` MiB of doubles, element i holding i: a big value whose every element can be checked. */
export const bigFloats = (mib: number) => {
  const values = new Float64Array(mib * 131_072);
  for (let i = 0; i < values.length; i++) values[i] = i;
  return values;
};
/** How long a `bigFloats` value is and how many of its elements are wrong (0 when intact). */
export const checkFloats = (values: Float64Array) => {
  let wrong = values instanceof Float64Array ? 0 : -1;
  for (let i = 0; i < values.length; i++) if (values[i] !== i) wrong++;
  return { mib: values.byteLength / 2 ** 20, wrong };
};
