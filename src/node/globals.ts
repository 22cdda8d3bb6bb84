// What a browser gives PeerJS and Handout and Node.js 20 lacks: WebRTC (node-datachannel's
// polyfill), a WebSocket (ws), and the `window` / `location` PeerJS reads. Imported first by the
// Node.js entry, so it runs before PeerJS is loaded.
import polyfill from 'node-datachannel/polyfill';
import { WebSocket } from 'ws';

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
