import type { ResultStore } from '../data/store.ts';
import type { ValueCache } from '../data/value-cache.ts';
import { DataNotFoundError, RemoteError, UnknownDagError } from '../errors.ts';
import type { Rpc } from '../net/rpc.ts';
import { callHook, type EdgeContext, type FunctionRegistry, lookup } from './functions.ts';
import { Method, parseGet, parseKey } from './messages.ts';

/** How long `result` waits for the room to say who holds an item. */
export const FIND_TIMEOUT_MS = 5000;
/** How long an early task's fetch may wait for its producer. */
export const WAIT_TIMEOUT_MS = 30 * 60_000;

export interface DataPorts {
  readonly id: string;
  readonly rpc: Rpc;
  readonly cache: ValueCache;
  readonly store: ResultStore;
  readonly functions: FunctionRegistry;
  /** Resolves when the value is kept here. */
  waitFor(dagId: string, dataId: string, signal?: AbortSignal): Promise<unknown>;
  /** Whether this node has any part in the DAG (so a missing item is not an unknown DAG). */
  knows(dagId: string): boolean;
  /** The ids of the peers in the room. */
  peers(): string[];
}

/**
 * A node's results as the room sees them: it serves `<dagId, dataId>` to the peers that ask (a
 * waiting request waits for the value; a `serialize` hook runs here), finds who holds an item,
 * and fetches from a peer with its typed "not found" errors kept typed.
 */
export class DataService {
  constructor(readonly ports: DataPorts) {}

  /** A result from anywhere in the room: here, else from a peer that holds it. */
  async result(dagId: string, taskId: string): Promise<unknown> {
    const local = await this.read(dagId, taskId);
    if (local !== undefined) return local.value;
    const peers = this.ports.peers();
    const answers = await Promise.all(
      peers.map(async (peer) => {
        try {
          const found = (await this.ports.rpc.request(
            peer,
            Method.find,
            { dagId, dataId: taskId },
            { timeoutMs: FIND_TIMEOUT_MS },
          )) as {
            has: boolean;
            knowsDag: boolean;
          };
          return { peer, has: found.has === true, knowsDag: found.knowsDag === true };
        } catch {
          return { peer, has: false, knowsDag: false };
        }
      }),
    );
    for (const { peer, has } of answers) {
      if (!has) continue;
      try {
        return await this.get(peer, dagId, taskId);
      } catch {
        // it went away or lost it meanwhile: try the next holder
      }
    }
    if (this.ports.knows(dagId) || answers.some((a) => a.knowsDag))
      throw new DataNotFoundError(dagId, taskId);
    throw new UnknownDagError(dagId);
  }

  /** Answers `data.get` and `data.find` from the peers. */
  serve(): void {
    const { rpc, cache, store, functions, id } = this.ports;
    rpc.handle(Method.get, async (body, from) => {
      const { dagId, dataId, serialize, consumerTaskId, wait } = parseGet(body);
      // A waiting request goes straight to the waiter, which asks the store itself.
      let found = wait ? cache.get(dagId, dataId) : await this.read(dagId, dataId);
      if (found === undefined && wait) {
        // Bounded, so made-up ids cannot pile up waiters forever.
        const value = await this.ports.waitFor(dagId, dataId, AbortSignal.timeout(WAIT_TIMEOUT_MS));
        found = { value };
      }
      if (found === undefined) throw this.missing(dagId, dataId);
      if (serialize === undefined) return found.value;
      const hook = lookup(functions, serialize);
      if (hook === undefined)
        throw Object.assign(new Error(`no function '${serialize}' here`), {
          code: 'unknown_function',
        });
      const context: EdgeContext = {
        dagId,
        producerTaskId: dataId,
        consumerTaskId: consumerTaskId ?? '',
        producer: id,
        consumer: from,
        signal: new AbortController().signal,
      };
      return callHook(hook, found.value, context, id);
    });
    rpc.handle(Method.find, async (body) => {
      const { dagId, dataId } = parseKey(body);
      return {
        has: (await this.read(dagId, dataId)) !== undefined,
        knowsDag: this.ports.knows(dagId) || (await store.keys(dagId)).length > 0,
      };
    });
  }

  /** A value here: in memory, else in the store. */
  async read(dagId: string, dataId: string): Promise<{ value: unknown } | undefined> {
    const hot = this.ports.cache.get(dagId, dataId);
    if (hot !== undefined) return hot;
    if (!(await this.ports.store.has(dagId, dataId))) return undefined;
    return { value: await this.ports.store.get(dagId, dataId) };
  }

  /** The typed error for an item not here. */
  missing(dagId: string, dataId: string): Error {
    return this.ports.knows(dagId)
      ? new DataNotFoundError(dagId, dataId)
      : new UnknownDagError(dagId);
  }

  /** A value from a peer (or here), with the peer's typed "not found" errors kept typed. */
  async get(peer: string, dagId: string, dataId: string): Promise<unknown> {
    if (peer === this.ports.id) {
      const found = await this.read(dagId, dataId);
      if (found === undefined) throw this.missing(dagId, dataId);
      return found.value;
    }
    try {
      return await this.ports.rpc.request(peer, Method.get, { dagId, dataId });
    } catch (error) {
      if (error instanceof RemoteError && error.remoteCode === 'data_not_found')
        throw new DataNotFoundError(dagId, dataId, `on peer ${peer}`);
      if (error instanceof RemoteError && error.remoteCode === 'unknown_dag')
        throw new UnknownDagError(dagId);
      throw error;
    }
  }
}
