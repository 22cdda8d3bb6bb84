import {
  createMemoryStore,
  createNode,
  type FunctionRegistry,
  type HandoutNode,
} from '../../src/index.ts';

/** A promise with its resolve exposed, so a test decides when a task finishes. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export const arithmetic = {
  identity: (x: unknown) => x,
  multiply: (a: number, b: number) => a * b,
  add: (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
  format: (x: unknown) => `value: ${String(x)}`,
  list: (...xs: unknown[]) => xs,
} satisfies FunctionRegistry;

export function memoryNode(functions: FunctionRegistry, id?: string): Promise<HandoutNode> {
  return createNode({ functions, store: createMemoryStore(), ...(id === undefined ? {} : { id }) });
}

/** The rejection of a promise that must reject. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
