// What a browser gives PeerJS and Handout and Node.js 20 lacks: WebRTC (node-datachannel's
// polyfill), a WebSocket (ws), and the `window` / `location` PeerJS reads. Installed before a
// Node.js node joins a room (PeerJS loads after); a local node needs none of it. Both packages
// are optional peer dependencies of `handout`, so a missing one is named with its `npm i` line.
import { missingPackage } from '../errors.ts';

let installed: Promise<void> | undefined;

/** Installs WebRTC, WebSocket, `window` and `location` on globalThis, once. */
export function installGlobals(): Promise<void> {
  installed ??= load().catch((error: unknown) => {
    installed = undefined; // installing the packages and trying again works
    throw error;
  });
  return installed;
}

async function load(): Promise<void> {
  const [polyfill, { WebSocket }] = await Promise.all([
    import('node-datachannel/polyfill'),
    import('ws'),
  ]).catch(missingPackage(['node-datachannel', 'ws'], 'a Node.js node joining a room'));
  const g = globalThis as Record<string, unknown>;
  const rtc = (polyfill as unknown as { default?: Record<string, unknown> }).default ?? polyfill;
  for (const name of [
    'RTCPeerConnection',
    'RTCSessionDescription',
    'RTCIceCandidate',
    'RTCDataChannel',
  ])
    g[name] ??= (rtc as Record<string, unknown>)[name];
  g.WebSocket ??= WebSocket;
  g.window ??= globalThis;
  g.location ??= { protocol: 'http:', hostname: 'localhost', href: 'http://localhost/' };
}
