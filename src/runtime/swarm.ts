import type { SameBrowserOption } from '../net/lanes.ts';
import type { Transport } from '../net/transport.ts';
import type { Resources } from '../resources.ts';

/** How a node joins a swarm; part of `NodeOptions`. */
export interface SwarmOptions {
  /** The coordinator's URL, e.g. `http://127.0.0.1:9000/handout`. Without it the node is local. */
  readonly coordinator?: string | undefined;
  /** Peers of one room see only each other. @default 'default' */
  readonly room?: string | undefined;
  /** Merged over what the browser reports (`cpu`, `memory`). @default detected */
  readonly capabilities?: Resources | undefined;
  /** Only peers that know it can meet this one (checked with HMAC challenges). @default none */
  readonly secret?: string | undefined;
  /** STUN/TURN servers for real networks; none are needed on one machine. @default [] */
  readonly iceServers?: RTCIceServer[] | undefined;
  /**
   * Tabs of this browser (one origin and storage partition) in the room talk over MessagePorts
   * handed out by a SharedWorker, 10x faster than WebRTC; `false` keeps WebRTC for every peer.
   * A function makes the broker's SharedWorker, for a bundler that cannot find its script.
   * @default true where SharedWorker exists
   */
  readonly sameBrowser?: SameBrowserOption;
  /**
   * Links to peers open when there is something to send them and close after this long unused,
   * so a big room does not hold a connection to every peer. `Infinity` keeps them open.
   * @default 60000
   */
  readonly idleLinkMs?: number | undefined;
  /** A ready-made transport instead (the in-memory one in tests). */
  readonly transport?: Transport | undefined;
}

/** What this machine offers, as the browser (or Node) reports it. */
export function detectCapabilities(): Resources {
  const nav = (
    globalThis as { navigator?: { hardwareConcurrency?: number; deviceMemory?: number } }
  ).navigator;
  const detected: Record<string, number> = { cpu: nav?.hardwareConcurrency ?? 1 };
  if (typeof nav?.deviceMemory === 'number') detected.memory = nav.deviceMemory;
  return detected;
}
