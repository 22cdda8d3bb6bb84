/** Messages between a node and the Web Workers of its function pool. */

/** What a pooled function knows of its call (its `ctx`, less the signal). */
export interface PooledContext {
  readonly dagId: string;
  readonly taskId: string;
  readonly nodeId: string;
  readonly attempt: number;
  /** A pipeline stage's `init` result, copied in with each call. */
  readonly state?: unknown;
  readonly itemId?: number | undefined;
}

export type ToWorker =
  | { readonly type: 'load'; readonly url: string }
  | {
      readonly type: 'call';
      readonly id: number;
      readonly name: string;
      readonly args: readonly unknown[];
      readonly context: PooledContext;
    }
  | { readonly type: 'abort'; readonly id: number };

export type FromWorker =
  | { readonly type: 'ready'; readonly names: readonly string[] }
  | { readonly type: 'failed-to-load'; readonly message: string }
  | { readonly type: 'done'; readonly id: number; readonly value: unknown }
  | {
      readonly type: 'error';
      readonly id: number;
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
    };

/** The ArrayBuffers inside a value (at the top, in typed arrays, arrays and plain objects). */
export function buffersIn(
  value: unknown,
  found = new Set<ArrayBuffer>(),
  depth = 0,
): ArrayBuffer[] {
  if (depth > 8 || value === null || typeof value !== 'object') return [...found];
  if (value instanceof ArrayBuffer) found.add(value);
  else if (ArrayBuffer.isView(value)) {
    if (value.buffer instanceof ArrayBuffer) found.add(value.buffer);
  } else if (Array.isArray(value)) {
    for (const item of value) buffersIn(item, found, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) buffersIn(item, found, depth + 1);
  }
  return [...found];
}
