/**
 * WebRTC data channels to peers, negotiated through the coordinator's signalling socket in the
 * PeerJS server's message shapes: one RTCPeerConnection and one ordered, reliable channel per
 * dial, an `OFFER` / `ANSWER` and trickled `CANDIDATE`s keyed by a connection id. Everything
 * above the channel (framing, handshake, heartbeats) is the link's.
 */
import { PeerGoneError } from '../errors.ts';
import type { Channel } from './channel.ts';
import { framingFor } from './framing.ts';
import type { Signal } from './signalling.ts';

type Send = (type: 'OFFER' | 'ANSWER' | 'CANDIDATE', dst: string, payload: object) => void;

/** One connection being negotiated, until its channel opens or it fails. */
interface Negotiation {
  readonly peerId: string;
  readonly pc: RTCPeerConnection;
  /** Candidates that came before the remote description. */
  early: RTCIceCandidateInit[] | undefined;
  /** Gives it up: its connection closes, a dial rejects. */
  fail(error: Error): void;
  /** Its channel opened: no longer negotiating, the connection is the channel's now. */
  settle(): void;
}

/** A dial, or an offer taken, that has not opened its channel by then is given up. */
const NEGOTIATION_TIMEOUT_MS = 15_000;

export class WebRtcPeers {
  readonly #negotiating = new Map<string, Negotiation>();
  /** Until the mesh listens, a channel opened to us is closed (its dialer redials), not leaked. */
  #incoming: (peerId: string, channel: Channel) => void = (_, channel) => channel.close();
  #closed = false;

  constructor(
    readonly send: Send,
    readonly iceServers: RTCIceServer[],
  ) {}

  /** Opens a channel to a peer; rejects with `PeerGoneError` when it cannot be reached. */
  dial(peerId: string): Promise<Channel> {
    if (this.#closed) return Promise.reject(new PeerGoneError(peerId, 'node closed'));
    const connectionId = `dc_${crypto.randomUUID().replaceAll('-', '')}`;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const dc = pc.createDataChannel(connectionId, { ordered: true });
    return new Promise((resolve, reject) => {
      const n = this.#negotiate(connectionId, peerId, pc, reject);
      this.#opening(connectionId, dc, (channel) => resolve(channel));
      void (async () => {
        const offer = await pc.createOffer();
        await pc.setLocalDescription(offer);
        this.send('OFFER', peerId, {
          type: 'data',
          connectionId,
          label: connectionId,
          reliable: true,
          serialization: 'raw',
          sdp: { type: offer.type, sdp: offer.sdp },
        });
      })().catch((error: unknown) => n.fail(asError(error)));
    });
  }

  /** Registers the handler of channels other peers open to us. */
  onIncoming(handler: (peerId: string, channel: Channel) => void): void {
    this.#incoming = handler;
  }

  /** Takes a relayed message of the signalling socket. */
  receive(signal: Signal): void {
    const { type, src, payload } = signal;
    if (type === 'EXPIRE' || type === 'LEAVE') {
      const why = type === 'EXPIRE' ? 'not connected to the coordinator' : 'left the coordinator';
      for (const n of [...this.#negotiating.values()])
        if (n.peerId === src) n.fail(new PeerGoneError(src, why));
      return;
    }
    const { connectionId } = payload;
    if (typeof connectionId !== 'string' || connectionId.length > 64) return;
    const n = this.#negotiating.get(connectionId);
    if (type === 'OFFER') {
      if (n === undefined) this.#answer(src, connectionId, payload);
      return;
    }
    if (n === undefined || n.peerId !== src) return; // late, or not ours
    if (type === 'ANSWER') {
      const sdp = description(payload.sdp);
      if (sdp === undefined || sdp.type !== 'answer') return n.fail(new Error('malformed answer'));
      this.#remote(n, sdp);
    } else {
      const candidate = iceCandidate(payload.candidate);
      if (candidate === undefined) return;
      if (n.early !== undefined) n.early.push(candidate);
      else n.pc.addIceCandidate(candidate).catch(() => undefined);
    }
  }

  /** Gives up every negotiation; open channels are closed by their links. */
  close(): void {
    this.#closed = true;
    for (const n of [...this.#negotiating.values()])
      n.fail(new PeerGoneError(n.peerId, 'node closed'));
  }

  /** An offer of another peer: only channels as Handout opens them are answered. */
  #answer(peerId: string, connectionId: string, payload: Readonly<Record<string, unknown>>): void {
    const sdp = description(payload.sdp);
    if (this.#closed || sdp?.type !== 'offer') return;
    if (payload.type !== 'data' || payload.serialization !== 'raw' || payload.reliable !== true)
      return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const n = this.#negotiate(connectionId, peerId, pc, () => undefined);
    pc.ondatachannel = (event) =>
      this.#opening(
        connectionId,
        event.channel,
        (channel) => this.#incoming(peerId, channel),
        true,
      );
    void (async () => {
      await this.#remote(n, sdp);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      this.send('ANSWER', peerId, {
        type: 'data',
        connectionId,
        sdp: { type: answer.type, sdp: answer.sdp },
      });
    })().catch((error: unknown) => n.fail(asError(error)));
  }

  #negotiate(
    connectionId: string,
    peerId: string,
    pc: RTCPeerConnection,
    rejected: (error: Error) => void,
  ): Negotiation {
    const timer = setTimeout(
      () => n.fail(new PeerGoneError(peerId, 'connection timed out')),
      NEGOTIATION_TIMEOUT_MS,
    );
    const n: Negotiation = {
      peerId,
      pc,
      early: [],
      fail: (error) => {
        if (this.#negotiating.get(connectionId) !== n) return;
        n.settle();
        pc.close();
        rejected(error);
      },
      settle: () => {
        this.#negotiating.delete(connectionId);
        clearTimeout(timer);
      },
    };
    this.#negotiating.set(connectionId, n);
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      if (c === null || !c.candidate) return;
      const candidate = {
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      };
      this.send('CANDIDATE', peerId, { type: 'data', connectionId, candidate });
    };
    pc.oniceconnectionstatechange = () => {
      if (pc.iceConnectionState === 'failed')
        n.fail(new PeerGoneError(peerId, 'WebRTC connection failed'));
    };
    return n;
  }

  /** Hands the channel on when it opens; a channel that closes first fails the negotiation. */
  #opening(
    connectionId: string,
    dc: RTCDataChannel,
    opened: (channel: Channel) => void,
    answers = false,
  ): void {
    const n = this.#negotiating.get(connectionId);
    if (n === undefined) return;
    dc.binaryType = 'arraybuffer';
    // What arrives before the link listens is kept for it: the peer sends its hello the moment
    // its side opens, and a message no listener hears is gone.
    const early = new EarlyMessages(dc);
    const open = () => {
      if (this.#negotiating.get(connectionId) !== n) return;
      n.settle();
      opened(channelOf(n.pc, dc, early, answers));
    };
    dc.addEventListener('open', open);
    // A channel the other side opened may be announced already open; its event is then one we
    // may not see (node-datachannel), and seeing both is harmless.
    if (dc.readyState === 'open') queueMicrotask(open);
    dc.addEventListener('close', () =>
      n.fail(new PeerGoneError(n.peerId, 'channel closed while opening')),
    );
  }

  async #remote(n: Negotiation, sdp: RTCSessionDescriptionInit): Promise<void> {
    await n.pc.setRemoteDescription(sdp);
    const early = n.early ?? [];
    n.early = undefined;
    for (const candidate of early) await n.pc.addIceCandidate(candidate).catch(() => undefined);
  }
}

/** A channel's messages from its creation until a listener takes them over. */
export class EarlyMessages {
  readonly #kept: ArrayBuffer[] = [];
  readonly #keep = (event: MessageEvent) => {
    if (event.data instanceof ArrayBuffer) this.#kept.push(event.data);
  };

  constructor(readonly dc: RTCDataChannel) {
    dc.addEventListener('message', this.#keep);
  }

  /** Hands what was kept to `listener`, and every later message. */
  handOver(listener: (data: ArrayBuffer) => void): void {
    this.dc.removeEventListener('message', this.#keep);
    for (const data of this.#kept.splice(0)) listener(data);
    this.dc.addEventListener('message', (event: MessageEvent) => {
      if (event.data instanceof ArrayBuffer) listener(event.data);
    });
  }
}

/** An open RTCDataChannel as a {@link Channel}; closing it closes its connection. */
function channelOf(
  pc: RTCPeerConnection,
  dc: RTCDataChannel,
  early: EarlyMessages,
  answers: boolean,
): Channel {
  const listeners: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    dc.close();
    pc.close();
    for (const listener of listeners) listener();
  };
  dc.addEventListener('close', close);
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'failed' || pc.iceConnectionState === 'closed') close();
  };
  return {
    lane: 'webrtc',
    answers,
    framing: framingFor(pc.sctp?.maxMessageSize),
    send: (data) => dc.send(data as Uint8Array<ArrayBuffer>),
    get bufferedAmount() {
      return dc.bufferedAmount;
    },
    onDrain(threshold, listener) {
      dc.bufferedAmountLowThreshold = threshold;
      dc.addEventListener('bufferedamountlow', listener);
    },
    onMessage: (listener) => early.handOver(listener),
    onClose(listener) {
      listeners.push(listener);
    },
    close,
  };
}

function description(value: unknown): RTCSessionDescriptionInit | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, sdp } = value as Record<string, unknown>;
  if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string') return undefined;
  return { type, sdp };
}

function iceCandidate(value: unknown): RTCIceCandidateInit | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { candidate, sdpMid, sdpMLineIndex } = value as Record<string, unknown>;
  if (typeof candidate !== 'string') return undefined;
  return {
    candidate,
    sdpMid: typeof sdpMid === 'string' ? sdpMid : null,
    sdpMLineIndex: typeof sdpMLineIndex === 'number' ? sdpMLineIndex : null,
  };
}

const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));
