// What a node makes of a coordinator's refusals and of its shutdown: a typed error at createNode,
// a clear reason on `coordinator:down`.
import { afterEach, describe, expect, it } from 'vitest';
import { type Coordinator, startCoordinator } from '../../src/coordinator/coordinator.ts';
import { CoordinatorError, createNode, type HandoutNode } from '../../src/node/index.ts';

let coordinator: Coordinator | undefined;
const nodes: HandoutNode[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await coordinator?.close();
  coordinator = undefined;
});

async function join(id: string): Promise<HandoutNode> {
  const node = await createNode({
    functions: {},
    coordinator: (coordinator as Coordinator).url,
    room: 'r',
    id,
  });
  nodes.push(node);
  return node;
}

describe('a node and the limits of its coordinator', () => {
  it('createNode fails with CoordinatorError saying the coordinator is full', async () => {
    coordinator = await startCoordinator({ port: 0, limits: { maxClients: 1 } });
    await join('first');
    const refused = join('second');
    await expect(refused).rejects.toThrow(CoordinatorError);
    await expect(refused).rejects.toThrow(/the coordinator is full \(1 clients\)/);
  });

  it('createNode fails with CoordinatorError naming the per-address limit', async () => {
    coordinator = await startCoordinator({ port: 0, limits: { maxConnectionsPerAddress: 1 } });
    // The signalling socket is let in; the room socket is the second from this address.
    const refused = join('lonely');
    await expect(refused).rejects.toThrow(CoordinatorError);
    await expect(refused).rejects.toThrow(/too many connections from this address \(4430/);
  });

  it('coordinator:down says the coordinator is shutting down', async () => {
    coordinator = await startCoordinator({ port: 0 });
    const node = await join('watcher');
    const down = new Promise<string>((resolve) =>
      node.on('coordinator:down', ({ reason }) => resolve(reason)),
    );
    await coordinator.close();
    coordinator = undefined;
    expect(await down).toMatch(/shutting down/);
  });
});
