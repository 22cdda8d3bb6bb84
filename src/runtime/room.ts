import type { Transport } from '../net/transport.ts';
import { createWebRtcTransport } from '../net/webrtc-transport.ts';
import type { SwarmOptions } from './swarm.ts';

/**
 * What a node loads only when it joins a room (a dynamic import in `create-node.ts`): the
 * PeerJS transport and the engine that runs DAGs over the room, so a local-only page never
 * downloads them.
 */
export { Cluster } from './cluster.ts';

/** The node's transport, or undefined for a local node. */
export async function joinSwarm(
  id: string | undefined,
  options: SwarmOptions,
): Promise<Transport | undefined> {
  if (options.transport !== undefined) return options.transport;
  if (options.coordinator === undefined) return undefined;
  return createWebRtcTransport({
    coordinator: options.coordinator,
    room: options.room,
    id,
    capabilities: options.capabilities,
    secret: options.secret,
    iceServers: options.iceServers,
    sameBrowser: options.sameBrowser,
    idleLinkMs: options.idleLinkMs,
  });
}
