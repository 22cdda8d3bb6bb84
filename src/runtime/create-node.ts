import type { ResultStore } from '../data/store.ts';
import type { Transport } from '../net/transport.ts';
import type { FunctionRegistry } from './base/functions.ts';
import { checkRunOptions } from './base/run-handle.ts';
import { Node } from './node.ts';
import type { HandoutNode, NodeOptions } from './node-api.ts';
import type { Platform } from './platform.ts';
import type { FunctionPool, PoolWorker } from './pool/pool.ts';
import { Expiry } from './serve/expiry.ts';
import { testingHook } from './testing-hook.ts';

/** Creates a node on a platform: `createNode` of the browser and Node.js entry points. */
export async function createNodeOn(platform: Platform, given: NodeOptions): Promise<HandoutNode> {
  // Under handout/testing's `tabs` fixture, every node joins the test's coordinator and room.
  const testing = given.transport === undefined ? testingHook() : undefined;
  const options =
    testing === undefined
      ? given
      : { ...given, coordinator: testing.coordinator, room: testing.room };
  if (options.id !== undefined && (typeof options.id !== 'string' || options.id.length === 0)) {
    throw new TypeError('createNode: id must be a non-empty string');
  }
  const kind = typeof options.functions;
  if (options.functions === null || (kind !== 'object' && kind !== 'function')) {
    throw new TypeError(
      'createNode: functions must be an object of named functions, a module URL or a function starting a Web Worker',
    );
  }
  if (options.ttl !== undefined) checkRunOptions({ ttl: options.ttl });
  const idle = options.idleLinkMs;
  if (idle !== undefined && !(typeof idle === 'number' && idle > 0))
    throw new RangeError(`createNode: idleLinkMs must be a positive number, got ${String(idle)}`);
  const capabilities = { ...platform.capabilities(), ...options.capabilities };
  const pooled = options.functions instanceof URL || kind === 'function';
  const pool = pooled ? await startPool(platform, options) : undefined;
  const functions = pool?.registry() ?? (options.functions as FunctionRegistry);
  let transport: Transport | undefined;
  let room: typeof import('./room.ts') | undefined;
  try {
    // The swarm layer (PeerJS, mesh, protocol, the room's engine) loads only to join a room.
    if (options.coordinator !== undefined && options.transport === undefined)
      await platform.beforeRoom?.();
    if (options.coordinator !== undefined || options.transport !== undefined)
      room = await import('./room.ts');
    transport = await room?.joinSwarm(options.id, { ...options, capabilities });
  } catch (error) {
    pool?.close();
    throw error;
  }
  const id = transport?.id ?? options.id ?? crypto.randomUUID();
  let node: Node | undefined;
  let store: ResultStore;
  let expiry: Expiry;
  try {
    store =
      typeof options.store === 'object' ? options.store : platform.openStore(id, options.store);
    expiry = new Expiry(store, {
      busy: (dagId) => node?.busy(dagId) ?? true,
      expire: (dagId) => node?.expire(dagId) ?? Promise.resolve(),
    });
    // Opens the database now, so a broken one fails here with StorageError.
    await expiry.load();
  } catch (error) {
    pool?.close();
    await transport?.close();
    throw error;
  }
  const cluster =
    transport === undefined || room === undefined
      ? undefined
      : new room.Cluster({ id, transport, functions, store, capabilities, expiry });
  node = new Node({ id, functions, store, expiry, ttl: options.ttl, pool, transport, cluster });
  testing?.nodes.push(node);
  return node;
}

async function startPool(platform: Platform, options: NodeOptions): Promise<FunctionPool> {
  const size = options.workers ?? platform.cores;
  if (!(Number.isInteger(size) && size >= 1))
    throw new RangeError(`createNode: workers must be an integer >= 1, got ${size}`);
  const { functions } = options;
  // Loaded only by a node whose functions run in workers.
  const { FunctionPool } = await import('./pool/pool.ts');
  if (typeof functions === 'function')
    return FunctionPool.start(
      'the worker factory',
      size,
      () => functions() as unknown as PoolWorker,
    );
  return FunctionPool.start(functions as URL, size, () => platform.spawnWorker());
}
