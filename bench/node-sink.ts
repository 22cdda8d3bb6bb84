// A Node.js peer for the edge benchmark: joins a room over node-datachannel and answers `sink`
// with the bytes it received and when. Prints `ready <id>` once in the room.

import { Rpc } from '../src/net/rpc.ts';
import { installGlobals } from '../src/node/globals.ts';

// Node.js 20 has neither WebRTC nor WebSocket: node-datachannel and ws give them.
await installGlobals();
const { createWebRtcTransport } = await import('../src/net/webrtc-transport.ts');

const [coordinator, room] = process.argv.slice(2) as [string, string];
const transport = await createWebRtcTransport({
  coordinator,
  room,
  id: `node-sink-${process.pid}`,
});
const rpc = new Rpc(transport, 600_000);
rpc.handle('sink', (body) => {
  const { buffer } = body as { buffer: ArrayBuffer };
  return { bytes: buffer.byteLength, at: Date.now() };
});
console.log(`ready ${transport.id}`);
process.once('SIGTERM', () => void transport.close().then(() => process.exit(0)));
