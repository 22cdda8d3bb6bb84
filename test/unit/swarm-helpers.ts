import { vi } from 'vitest';
import {
  createMemoryStore,
  createNode,
  type FunctionRegistry,
  type HandoutNode,
  type Resources,
  type ResultStore,
} from '../../src/index.ts';
import { MemoryHub } from '../../src/testing/memory.ts';

export interface SwarmOf {
  hub: MemoryHub;
  nodes: HandoutNode[];
  byId: (id: string) => HandoutNode;
  close: () => Promise<void>;
}

/**
 * Nodes on one in-memory hub, each with its own memory store, all having met each other.
 * `ids` sort in the order given, so tests know which is "lower".
 */
export async function swarm(
  ids: string[],
  functions: FunctionRegistry,
  capabilities: Record<string, Resources> = {},
  room = 'r',
  store: (id: string) => ResultStore = (id) => createMemoryStore(`memory:${id}`),
): Promise<SwarmOf> {
  const hub = new MemoryHub();
  const nodes: HandoutNode[] = [];
  for (const id of ids) {
    const caps = capabilities[id] ?? { cpu: 4 };
    const transport = await hub.join({
      id,
      room,
      capabilities: caps,
      heartbeatMs: 50,
      deadAfterMs: 400,
    });
    nodes.push(
      await createNode({
        functions,
        transport,
        capabilities: caps,
        store: store(id),
      }),
    );
  }
  await vi.waitFor(() => {
    for (const node of nodes) {
      if (node.peers().length !== ids.length - 1)
        throw new Error(`${node.id} sees ${node.peers().length}`);
    }
  });
  return {
    hub,
    nodes,
    byId: (id) => nodes.find((n) => n.id === id) as HandoutNode,
    close: async () => {
      await Promise.all(nodes.map((n) => n.close()));
    },
  };
}
