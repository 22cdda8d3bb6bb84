// Transfer scenarios, run inside pages: Handout's transport next to a raw RTCDataChannel.

import { Rpc } from '../../src/net/rpc.ts';
import { createWebRtcTransport } from '../../src/net/webrtc-transport.ts';

let rpc: Rpc | undefined;

/** Joins the bench room; the receiver answers `sink` with what it got. */
async function handoutJoin(coordinator: string, room: string): Promise<string> {
  const transport = await createWebRtcTransport({ coordinator, room });
  rpc = new Rpc(transport, 600_000);
  rpc.handle('sink', (body) => {
    const { buffer } = body as { buffer: ArrayBuffer };
    return { bytes: buffer.byteLength, at: Date.now() };
  });
  return transport.id;
}

async function handoutWaitFor(peerId: string): Promise<void> {
  const transport = rpc?.transport;
  if (transport === undefined) throw new Error('join first');
  while (!transport.peers().some((p) => p.id === peerId))
    await new Promise((r) => setTimeout(r, 20));
}

/** Sends `bytes` to the peer; resolves with milliseconds until the receiver had all of it. */
async function handoutSend(peerId: string, bytes: number): Promise<number> {
  const buffer = new Uint8Array(bytes).fill(7).buffer;
  if (rpc === undefined) throw new Error('join first');
  const started = Date.now();
  const { at, bytes: got } = (await rpc.request(peerId, 'sink', { buffer })) as {
    at: number;
    bytes: number;
  };
  if (got !== bytes) throw new Error(`receiver got ${got} of ${bytes} bytes`);
  return at - started;
}

// The raw baseline: one ordered RTCDataChannel, 64 KiB messages, bufferedAmount under 8 MiB.
let pc: RTCPeerConnection | undefined;
let channel: RTCDataChannel | undefined;
let received = 0;
let expected = 0;
let doneAt: (at: number) => void = () => undefined;

async function gathered(connection: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  if (connection.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) =>
      connection.addEventListener('icegatheringstatechange', () => {
        if (connection.iceGatheringState === 'complete') resolve();
      }),
    );
  }
  return connection.localDescription?.toJSON() as RTCSessionDescriptionInit;
}

function listen(dc: RTCDataChannel): void {
  dc.binaryType = 'arraybuffer';
  dc.onmessage = (event) => {
    received += (event.data as ArrayBuffer).byteLength;
    if (received >= expected) doneAt(Date.now());
  };
}

async function rawOffer(): Promise<RTCSessionDescriptionInit> {
  pc = new RTCPeerConnection({ iceServers: [] });
  channel = pc.createDataChannel('raw', { ordered: true });
  await pc.setLocalDescription(await pc.createOffer());
  return gathered(pc);
}

async function rawAnswer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.ondatachannel = (event) => {
    channel = event.channel;
    listen(channel);
  };
  await pc.setRemoteDescription(offer);
  await pc.setLocalDescription(await pc.createAnswer());
  return gathered(pc);
}

async function rawAccept(answer: RTCSessionDescriptionInit): Promise<void> {
  await pc?.setRemoteDescription(answer);
  const dc = channel as RTCDataChannel;
  if (dc.readyState !== 'open')
    await new Promise((r) => dc.addEventListener('open', r, { once: true }));
}

let arrival: Promise<number> = Promise.resolve(0);

/**
 * Receiver side: counts from here the next `bytes` (`rawArrived` says when they had all come).
 * Armed before the sender starts: bytes that came first would be counted for nothing.
 */
function rawExpect(bytes: number): void {
  received = 0;
  expected = bytes;
  arrival = new Promise((resolve) => {
    doneAt = resolve;
  });
}

/** The time the bytes `rawExpect` armed for had all arrived. */
function rawArrived(): Promise<number> {
  return arrival;
}

async function rawSend(bytes: number): Promise<number> {
  const dc = channel as RTCDataChannel;
  const chunk = new Uint8Array(64 * 1024).fill(7);
  dc.bufferedAmountLowThreshold = 1 << 20;
  const started = Date.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (dc.bufferedAmount > 8 << 20) {
      await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
    }
    dc.send(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
  }
  return started;
}

declare global {
  interface Window {
    transfer: {
      handoutJoin: typeof handoutJoin;
      handoutWaitFor: typeof handoutWaitFor;
      handoutSend: typeof handoutSend;
      rawOffer: typeof rawOffer;
      rawAnswer: typeof rawAnswer;
      rawAccept: typeof rawAccept;
      rawExpect: typeof rawExpect;
      rawArrived: typeof rawArrived;
      rawSend: typeof rawSend;
    };
  }
}
window.transfer = {
  handoutJoin,
  handoutWaitFor,
  handoutSend,
  rawOffer,
  rawAnswer,
  rawAccept,
  rawExpect,
  rawArrived,
  rawSend,
};
