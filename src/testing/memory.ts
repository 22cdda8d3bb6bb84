/**
 * `handout/testing/memory` (also re-exported by `handout/testing`): for unit tests of an app that
 * embeds Handout, in Node.js or a browser, kept out of the main entry.
 * `MemoryHub` is an in-memory swarm with the real protocol, handshakes and framing, and faults
 * to inject (a peer that vanishes, a link cut, delays); hand a peer of it to `createNode` as
 * `transport` and a room runs in one process, fast and deterministic. `Transport` is the
 * interface a node talks to its peers through, for those who write their own.
 */
export type { DelayFn, MemoryPeerOptions } from '../net/memory-transport.ts';
export { MemoryHub } from '../net/memory-transport.ts';
export type { Listener, Transport, TransportEvents } from '../net/transport.ts';
