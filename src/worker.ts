/**
 * `handout/worker`: for the script of a Web Worker that runs a node's task functions, so a
 * bundler builds it with its imports (the form production builds need).
 *
 * @example
 * // tasks.worker.ts
 * import { serveFunctions } from 'handout/worker';
 * import * as tasks from './tasks.ts';
 * serveFunctions(tasks);
 *
 * // the page
 * const node = await createNode({
 *   functions: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
 * });
 */
import type { FunctionRegistry } from './runtime/base/functions.ts';
import { serveInWorker } from './runtime/pool/pool-serve.ts';

export { withContext } from './runtime/base/functions.ts';

/** Serves these functions (an object or a module namespace; non-functions are ignored). */
export function serveFunctions(functions: FunctionRegistry | Record<string, unknown>): void {
  serveInWorker(functions as FunctionRegistry);
}
