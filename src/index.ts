/**
 * Handout: run DAGs of named tasks across peers, every result kept in the producing node's
 * store under `[dagId, taskId]`. This is the browser's entry point; Node.js gets
 * `node/index.ts` (the package's `node` condition), with the same API.
 */
import { browserPlatform } from './runtime/browser-platform.ts';
import { createNodeOn } from './runtime/create-node.ts';
import type { HandoutNode, NodeOptions } from './runtime/node-api.ts';

export * from './common.ts';
export { createIndexedDbStore } from './data/idb-store.ts';
export type { PartSizes } from './data/parts.ts';

/**
 * Creates a node. Without a coordinator it is a local node that runs whole DAGs itself; with
 * one, it joins a room and its runs spread over the room's peers. Results go to IndexedDB
 * (database `handout-<id>`) unless `store` says otherwise.
 *
 * @example
 * const node = await createNode({ functions: { identity, multiply, format } });
 * const { results } = await node.execute(dag, { maxRetries: 3, maxConcurrency: 4 });
 */
export function createNode(options: NodeOptions): Promise<HandoutNode> {
  return createNodeOn(browserPlatform, options);
}
