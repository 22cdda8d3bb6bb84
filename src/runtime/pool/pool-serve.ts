// What each worker of a node's function pool runs (a Web Worker in a browser, a worker thread in
// Node.js): it loads the application's module of functions (its exports, by name) and runs calls
// from the node. Results' ArrayBuffers are transferred back, not copied.
import { type FunctionRegistry, functionsOf, invoke, lookup } from '../base/functions.ts';
import { buffersIn, type FromWorker, type ToWorker } from './pool-protocol.ts';

/** The worker's end of its channel to the node. */
export interface PoolPort {
  post(message: FromWorker, transfer: ArrayBuffer[]): void;
  listen(listener: (message: ToWorker) => void): void;
}

/**
 * Serves the node's calls on `port` until the worker is terminated: with the functions given
 * (a worker script that imported them itself), or else those of the module the node names.
 */
export function servePool(port: PoolPort, given?: FunctionRegistry): void {
  let functions: FunctionRegistry = given === undefined ? {} : functionsOf(given);
  const running = new Map<number, AbortController>();
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.post(message, transfer);

  async function load(url: string): Promise<void> {
    try {
      if (given === undefined)
        functions = functionsOf((await import(/* @vite-ignore */ url)) as Record<string, unknown>);
      post({ type: 'ready', names: Object.keys(functions) });
    } catch (error) {
      post({ type: 'failed-to-load', message: String(error) });
    }
  }

  async function call(message: Extract<ToWorker, { type: 'call' }>): Promise<void> {
    const { id, name, args, context } = message;
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const fn = lookup(functions, name);
      if (fn === undefined) throw new Error(`no function '${name}' in the worker module`);
      const value = await invoke(fn, [...args], () => ({ ...context, signal: controller.signal }));
      post({ type: 'done', id, value }, buffersIn(value));
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      post({ type: 'error', id, name: e.name, message: e.message, stack: e.stack });
    } finally {
      running.delete(id);
    }
  }

  port.listen((data) => {
    if (data.type === 'load') void load(data.url);
    else if (data.type === 'call') void call(data);
    else if (data.type === 'abort') running.get(data.id)?.abort(new Error('cancelled'));
  });
}

/** Serves from this Web Worker (`self`): the functions given, or the module the node names. */
export function serveInWorker(given?: FunctionRegistry): void {
  const scope = globalThis as unknown as {
    postMessage(message: FromWorker, transfer: Transferable[]): void;
    onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  };
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined')
    throw new TypeError('serveFunctions: call it in a Web Worker that a node spawned');
  servePool(
    {
      post: (message, transfer) => scope.postMessage(message, transfer),
      listen: (listener) => {
        scope.onmessage = ({ data }) => listener(data);
      },
    },
    given,
  );
}
