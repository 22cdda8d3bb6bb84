import { type FunctionRegistry, type TaskContext, withContext } from '../base/functions.ts';
import type { FromWorker, PooledContext, ToWorker } from './pool-protocol.ts';

/** The part of a Web Worker the pool uses (a worker thread's adapter in Node.js, a fake in unit tests). */
export interface PoolWorker {
  postMessage(message: ToWorker): void;
  onmessage: ((event: { data: FromWorker }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  terminate(): void;
}

/** How long the first worker may take to load its functions and name them. */
const LOAD_TIMEOUT_MS = 30_000;

interface Call {
  readonly id: number;
  readonly name: string;
  readonly args: readonly unknown[];
  readonly context: PooledContext;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  detach(): void;
}

interface Seat {
  worker: PoolWorker;
  ready: boolean;
  call: Call | undefined;
}

/**
 * A pool of workers (Web Workers, or worker threads in Node.js), each with the application's
 * module of functions loaded: task functions run off the main thread, so the page stays
 * responsive, heartbeats keep going, and a node uses every core. A call
 * waits for a free worker; a cancelled one is terminated (a true stop, whatever the function
 * does) and replaced. Results' ArrayBuffers come back transferred; arguments are copied, since
 * the node keeps them for other consumers.
 */
export class FunctionPool {
  readonly #seats: Seat[] = [];
  readonly #queue: Call[] = [];
  #nextId = 0;
  #closed = false;

  private constructor(
    readonly url: string,
    readonly names: readonly string[],
    readonly spawn: () => PoolWorker,
  ) {}

  /** Starts `size` workers; resolves once the first has loaded the module and named its exports. */
  static async start(
    url: URL | string,
    size: number,
    spawn: () => PoolWorker,
  ): Promise<FunctionPool> {
    const href = String(url);
    const first = spawn();
    let silence: ReturnType<typeof setTimeout> | undefined;
    const names = await new Promise<readonly string[]>((resolve, reject) => {
      silence = setTimeout(
        () =>
          reject(
            new TypeError(
              `createNode: the worker for ${href} did not answer within ${LOAD_TIMEOUT_MS / 1000} s (does its script call serveFunctions?)`,
            ),
          ),
        LOAD_TIMEOUT_MS,
      );
      first.onmessage = ({ data }) => {
        if (data.type === 'ready') resolve(data.names);
        if (data.type === 'failed-to-load')
          reject(new TypeError(`createNode: cannot load ${href} in a worker: ${data.message}`));
      };
      first.onerror = (event) =>
        reject(new TypeError(`createNode: worker for ${href} failed: ${event.message ?? ''}`));
      first.postMessage({ type: 'load', url: href });
    })
      .catch((error: unknown) => {
        first.terminate();
        throw error;
      })
      .finally(() => clearTimeout(silence));
    const pool = new FunctionPool(href, names, spawn);
    pool.#adopt(first, true);
    for (let i = 1; i < Math.max(1, size); i++) pool.#adopt(spawn(), false);
    return pool;
  }

  get size(): number {
    return this.#seats.length;
  }

  /** One function per exported name, calling into the pool (with the task's context). */
  registry(): FunctionRegistry {
    return Object.fromEntries(
      this.names.map((name) => [
        name,
        withContext((context: TaskContext, ...args: unknown[]) => this.call(name, args, context)),
      ]),
    );
  }

  call(name: string, args: readonly unknown[], context: TaskContext): Promise<unknown> {
    const { signal } = context;
    if (this.#closed) return Promise.reject(new Error('the function pool is closed'));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#abort(call, signal.reason);
      const call: Call = {
        id: this.#nextId++,
        name,
        args,
        context: {
          dagId: context.dagId,
          taskId: context.taskId,
          nodeId: context.nodeId,
          attempt: context.attempt,
          // A pipeline stage's: copied into the worker with each call.
          ...(context.state === undefined ? {} : { state: context.state }),
          ...(context.itemId === undefined ? {} : { itemId: context.itemId }),
        },
        resolve,
        reject,
        detach: () => signal.removeEventListener('abort', onAbort),
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(call);
      this.#pump();
    });
  }

  close(): void {
    this.#closed = true;
    for (const seat of this.#seats) {
      seat.worker.terminate();
      if (seat.call !== undefined) this.#settle(seat.call, new Error('the function pool closed'));
    }
    for (const call of this.#queue.splice(0))
      this.#settle(call, new Error('the function pool closed'));
  }

  #adopt(worker: PoolWorker, ready: boolean): void {
    const seat: Seat = { worker, ready, call: undefined };
    this.#seats.push(seat);
    this.#listen(seat);
    if (!ready) worker.postMessage({ type: 'load', url: this.url });
  }

  #listen(seat: Seat): void {
    seat.worker.onmessage = ({ data }) => {
      if (data.type === 'ready') {
        seat.ready = true;
        this.#pump();
        return;
      }
      if (data.type === 'failed-to-load') return this.#replace(seat, new Error(data.message));
      const call = seat.call;
      if (call === undefined || call.id !== data.id) return;
      seat.call = undefined;
      if (data.type === 'done') this.#settle(call, undefined, data.value);
      else
        this.#settle(
          call,
          Object.assign(new Error(data.message), { name: data.name, stack: data.stack }),
        );
      this.#pump();
    };
    seat.worker.onerror = (event) =>
      this.#replace(seat, new Error(`worker crashed: ${event.message ?? 'unknown error'}`));
  }

  /** Ends a worker (crashed, or running a cancelled call) and starts a fresh one in its seat. */
  #replace(seat: Seat, error: unknown): void {
    seat.worker.terminate();
    if (seat.call !== undefined) this.#settle(seat.call, error);
    seat.call = undefined;
    if (this.#closed) return;
    seat.worker = this.spawn();
    seat.ready = false;
    this.#listen(seat);
    seat.worker.postMessage({ type: 'load', url: this.url });
  }

  #abort(call: Call, reason: unknown): void {
    const queued = this.#queue.indexOf(call);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(call, reason);
      return;
    }
    const seat = this.#seats.find((s) => s.call === call);
    if (seat !== undefined) this.#replace(seat, reason);
  }

  #settle(call: Call, error: unknown, value?: unknown): void {
    call.detach();
    if (error === undefined) call.resolve(value);
    else call.reject(error);
  }

  #pump(): void {
    for (const seat of this.#seats) {
      if (this.#queue.length === 0) return;
      if (!seat.ready || seat.call !== undefined) continue;
      const call = this.#queue.shift() as Call;
      seat.call = call;
      seat.worker.postMessage({
        type: 'call',
        id: call.id,
        name: call.name,
        args: call.args,
        context: call.context,
      });
    }
  }
}
