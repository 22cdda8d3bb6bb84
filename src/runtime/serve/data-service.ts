import type { PartSizes } from '../../data/parts.ts';
import { findValue, type ResultStore, type StagedParts } from '../../data/store.ts';
import type { ValueCache } from '../../data/value-cache.ts';
import {
  DataNotFoundError,
  RemoteError,
  RequestTimeoutError,
  UnknownDagError,
} from '../../errors.ts';
import type { Rpc } from '../../net/rpc.ts';
import { call, serve } from '../base/calls.ts';
import type { Epochs } from '../base/epochs.ts';
import { callHook, type EdgeContext, type FunctionRegistry, lookup } from '../base/functions.ts';
import { Offers, offerIn, partsInMemory } from './offers.ts';
import { findResult } from './result.ts';
import { streamedValue } from './streamed-value.ts';
import { takeOffer } from './take-offer.ts';

/** How long an early task's fetch may wait for its producer. */
export const WAIT_TIMEOUT_MS = 30 * 60_000;

export interface DataPorts {
  readonly id: string;
  readonly rpc: Rpc;
  readonly cache: ValueCache;
  readonly store: ResultStore;
  readonly epochs: Epochs;
  readonly functions: FunctionRegistry;
  /** Resolves when the value is kept here. */
  waitFor(dagId: string, dataId: string, signal?: AbortSignal): Promise<unknown>;
  /** Whether this node has any part in the DAG (so a missing item is not an unknown DAG). */
  knows(dagId: string): boolean;
  /** The ids of the peers in the room. */
  peers(): string[];
  /** Where a value in memory is big enough to offer in parts (tests use small sizes). */
  readonly sizes?: PartSizes | undefined;
}

/** A fetched value, and its staging in the store when it came in parts and was staged. */
export interface Taken {
  readonly value: unknown;
  readonly staged?: StagedParts | undefined;
}

/**
 * A node's results as the room sees them: it serves `<dagId, dataId>` to the peers that ask (a
 * waiting request waits for the value; a `serialize` hook runs here), finds who holds an item,
 * and fetches from a peer with its typed "not found" errors kept typed.
 */
export class DataService {
  /** Big values offered to peers in parts. */
  readonly offers = new Offers();

  constructor(readonly ports: DataPorts) {}

  /**
   * A result of the latest run of the DAG the room knows: here, else from a peer that holds it.
   * Peers holding only an earlier run's value are never asked for it. With `timeoutMs`, fails
   * with `RequestTimeoutError` once that much time has passed.
   */
  async result(dagId: string, taskId: string, timeoutMs?: number): Promise<unknown> {
    if (timeoutMs === undefined) return findResult(this, dagId, taskId);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new RequestTimeoutError(this.ports.id, `result ${dagId}/${taskId}`, timeoutMs)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([findResult(this, dagId, taskId), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Answers `data.get` and `data.find` from the peers. */
  serve(): void {
    const { rpc, cache, store, functions, id } = this.ports;
    const { offers } = this;
    serve(rpc, 'data.get', async (body, from) => {
      const { dagId, dataId, epoch, serialize, consumerTaskId, wait, parts } = body;
      // Only values of the run asked about. Of a later run than the one here, only a waiting
      // request (an early consumer, whose producer's order is on its way) waits for it to come;
      // a request never wipes anything (only a run's orders and its start do).
      const here = await this.ports.epochs.here(dagId, epoch);
      if (epoch < here)
        throw new DataNotFoundError(dagId, dataId, 'only a later run of its DAG is here');
      if (epoch > here) {
        if (!wait) throw this.missing(dagId, dataId);
        await bounded(dagId, dataId, (signal) => this.ports.epochs.reached(dagId, epoch, signal));
        if ((await this.ports.epochs.current(dagId)) !== epoch)
          throw new DataNotFoundError(dagId, dataId, 'only a later run of its DAG is here');
      }
      // A value in parts, not in memory, goes part by part from the store: never held whole.
      if (!wait && serialize === undefined && cache.get(dagId, dataId) === undefined) {
        const stored = await store.openParts?.(dagId, dataId);
        if (stored !== undefined && parts) return offers.offer(from, dagId, dataId, epoch, stored);
        const streamed = stored === undefined ? undefined : streamedValue(stored);
        if (streamed !== undefined) return streamed;
      }
      // A waiting request goes straight to the waiter, which asks the store itself.
      let found = wait ? cache.get(dagId, dataId) : await this.read(dagId, dataId);
      if (found === undefined && wait) {
        // Bounded, so made-up ids cannot pile up waiters forever.
        const value = await bounded(dagId, dataId, (signal) =>
          this.ports.waitFor(dagId, dataId, signal),
        );
        found = { value };
      }
      if (found === undefined) throw this.missing(dagId, dataId);
      if (serialize === undefined) {
        const inParts = parts ? partsInMemory(found.value, this.ports.sizes) : undefined;
        if (inParts === undefined) return found.value;
        return offers.offer(from, dagId, dataId, epoch, inParts);
      }
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
    serve(rpc, 'data.part', async ({ dagId, dataId, token, index }, from) => {
      const open = offers.take(from, dagId, dataId, token);
      // A later run here means the value offered is gone, or about to go.
      if ((await this.ports.epochs.here(dagId, open.epoch)) !== open.epoch) {
        offers.drop((o) => o.dagId === dagId);
        throw new DataNotFoundError(dagId, dataId, 'only a later run of its DAG is here');
      }
      return offers.part(token, open, index);
    });
    serve(rpc, 'data.find', async ({ dagId, dataId }) => {
      return {
        // Whether it is here, not the value: a big one takes seconds to read.
        has:
          this.ports.cache.get(dagId, dataId) !== undefined ||
          (await this.ports.store.has(dagId, dataId)),
        knowsDag: this.ports.knows(dagId) || (await store.keys(dagId)).length > 0,
        epoch: await this.ports.epochs.current(dagId),
        cleared: await this.ports.epochs.isCleared(dagId),
      };
    });
  }

  /** A value here: in memory, else in the store. */
  async read(dagId: string, dataId: string): Promise<{ value: unknown } | undefined> {
    const hot = this.ports.cache.get(dagId, dataId);
    if (hot !== undefined) return hot;
    return findValue(this.ports.store, dagId, dataId);
  }

  /** The typed error for an item not here. */
  missing(dagId: string, dataId: string): Error {
    return this.ports.knows(dagId)
      ? new DataNotFoundError(dagId, dataId)
      : new UnknownDagError(dagId);
  }

  /**
   * A value of run `epoch` from a peer (or here): the one `data.get` client, used by workers for
   * their inputs and by orchestrators and `result()` for results. The peer's typed "not found"
   * errors stay typed. A waiting fetch lasts as long as its producer takes (a cancel ends it
   * sooner); a big value as long as its bytes keep coming.
   */
  async fetch(peer: string, request: FetchRequest, signal?: AbortSignal): Promise<unknown> {
    return (await this.take(peer, request, signal)).value;
  }

  /**
   * As `fetch`; with `stage`, a big value the peer offers in parts is written to the store as
   * its parts arrive (`ResultStore.stageParts`), and `staged` is its staging, for the caller to
   * commit (or abort) once it knows the value is to be kept.
   */
  async take(
    peer: string,
    request: FetchRequest,
    signal?: AbortSignal,
    stage = false,
  ): Promise<Taken> {
    const { dagId, epoch, dataId } = request;
    if (peer === this.ports.id && request.serialize === undefined && request.wait !== true) {
      const here = await this.ports.epochs.here(dagId, epoch);
      const found = here === epoch ? await this.read(dagId, dataId) : undefined;
      if (found === undefined) throw this.missing(dagId, dataId);
      return found;
    }
    const wait = request.wait === true;
    const { rpc, store } = this.ports;
    let staged: StagedParts | undefined;
    try {
      const answer = await call(
        rpc,
        peer,
        'data.get',
        {
          dagId,
          epoch,
          dataId,
          serialize: request.serialize,
          consumerTaskId: request.consumerTaskId,
          wait,
          parts: true,
        },
        { timeoutMs: wait ? WAIT_TIMEOUT_MS : undefined, idle: true, signal },
      );
      const offer = offerIn(answer);
      if (offer === undefined) return { value: answer };
      if (offer === 'invalid')
        throw new DataNotFoundError(dagId, dataId, `${peer} offered it malformed`);
      staged = stage ? store.stageParts?.(dagId, dataId, offer.head) : undefined;
      return { value: await takeOffer(rpc, peer, request, offer, staged, signal), staged };
    } catch (error) {
      void staged?.abort();
      if (error instanceof RemoteError && error.remoteCode === 'data_not_found')
        throw new DataNotFoundError(dagId, dataId, `on peer ${peer}`);
      if (error instanceof RemoteError && error.remoteCode === 'unknown_dag')
        throw new UnknownDagError(dagId);
      throw error;
    }
  }
}

/**
 * Runs a wait for a value with a signal that aborts after {@link WAIT_TIMEOUT_MS}, and drops its
 * timer as soon as the wait settles; one that fails rejects as {@link notMade}.
 * `AbortSignal.timeout` cannot be cleared: each waiting request left a timer, and the waiter's
 * listener, alive for half an hour (a long-lived node gathered them).
 */
function bounded<T>(
  dagId: string,
  dataId: string,
  wait: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The wait timed out.', 'TimeoutError')),
    WAIT_TIMEOUT_MS,
  );
  (timer as { unref?: () => void }).unref?.(); // a wait never keeps a Node.js process alive
  return wait(controller.signal)
    .catch((reason: unknown) => Promise.reject(notMade(dagId, dataId, reason)))
    .finally(() => clearTimeout(timer));
}

/**
 * A waited-for value that will not be made here after all (its run was cancelled or forgotten
 * here, say when the orchestrator dropped out of sight, or the wait ran out): for the consumer a
 * lost input, so recovery applies, never a failure of its task.
 */
function notMade(dagId: string, dataId: string, reason: unknown): DataNotFoundError {
  const why = reason instanceof Error ? reason.message : String(reason);
  return new DataNotFoundError(dagId, dataId, `no longer being made here: ${why}`);
}

/** What `DataService.fetch` asks a peer for. */
export interface FetchRequest {
  readonly dagId: string;
  readonly epoch: number;
  readonly dataId: string;
  /** The producer's hook to turn the value with, there, for this consumer. */
  readonly serialize?: string | undefined;
  readonly consumerTaskId?: string | undefined;
  /** Wait there for a value not made yet (an early task's input). */
  readonly wait?: boolean | undefined;
}
