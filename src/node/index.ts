// Handout for Node.js (the `node` condition of the package): the same API as in the browser, with
// WebRTC from node-datachannel and WebSockets from ws (loaded when a node joins a room), the
// machine's cores and memory as the node's capabilities, worker threads for a module of
// functions, and a durable SQLite store. A Node.js process joins a room as a peer beside the
// tabs. Nothing here loads IndexedDB.
import { createNodeOn } from '../runtime/create-node.ts';
import type { HandoutNode, NodeOptions } from '../runtime/node-api.ts';
import { nodePlatform } from './platform.ts';

export * from '../common.ts';
export { createSqliteStore } from '../data/sqlite-store.ts';
export { MissingPackageError } from '../errors.ts';

/**
 * Creates a node in Node.js; see the browser's `createNode`. Its capabilities default to this
 * machine's: `cpu` (available parallelism) and `memory` (GiB). Its store defaults to memory; give
 * `createSqliteStore(path)` for one that survives a restart. `functions` may be an object of
 * functions (run on the main thread) or a module's URL, run in a pool of `workers` worker
 * threads (default: one per core).
 */
export function createNode(options: NodeOptions): Promise<HandoutNode> {
  return createNodeOn(nodePlatform, options);
}
