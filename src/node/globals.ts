// What a browser gives Handout's room and Node.js 20 lacks: WebRTC (node-datachannel's
// polyfill) and a WebSocket (ws). Installed before a Node.js node joins a room; a local node
// needs none of it. Both packages
// are optional peer dependencies of `handout`, so a missing one is named with its `npm i` line.
import { missingPackage } from '../missing-package.ts';

let installed: Promise<void> | undefined;

/** Installs WebRTC and WebSocket on globalThis, once. */
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
}
