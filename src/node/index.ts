// Handout for Node.js (the `node` condition of the package): the same API as in the browser, with
// WebRTC from node-datachannel and WebSockets from ws, the machine's cores and memory as the
// node's capabilities, and a durable SQLite store. A Node.js process joins a room as a peer
// beside the tabs.
import './globals.ts';
import os from 'node:os';
import { createNode as createAnyNode, type HandoutNode, type NodeOptions } from '../index.ts';

export { createSqliteStore } from '../data/sqlite-store.ts';
export * from '../index.ts';

/**
 * Creates a node in Node.js; see the browser's `createNode`. Its capabilities default to this
 * machine's: `cpu` (available parallelism) and `memory` (GiB). Its store defaults to memory; give
 * `createSqliteStore(path)` for one that survives a restart. Functions are an object of
 * functions (Web Worker pools exist in browsers only).
 */
export function createNode(options: NodeOptions): Promise<HandoutNode> {
  const machine = { cpu: os.availableParallelism(), memory: Math.round(os.totalmem() / 2 ** 30) };
  return createAnyNode({ ...options, capabilities: { ...machine, ...options.capabilities } });
}
