/** What the coordinator counts about itself, served at `GET <path>/health`. */

/** Why clients were dropped, as counted in {@link CoordinatorHealth}. */
export type DropKind =
  | 'bad-request'
  | 'unauthorized'
  | 'too-many-seats'
  | 'too-large'
  | 'malformed'
  | 'too-fast'
  | 'too-many-connections'
  | 'full'
  | 'fault'
  | 'http-error';

export interface CoordinatorHealth {
  readonly status: 'ok' | 'closing';
  readonly uptimeMs: number;
  /** Open sockets: signalling (PeerJS) and room sockets, and the addresses they come from. */
  readonly clients: {
    readonly signalling: number;
    readonly rooms: number;
    readonly addresses: number;
  };
  readonly rooms: number;
  readonly members: number;
  readonly messages: {
    /** Signalling messages passed to PeerJS, and the largest of them in bytes. */
    readonly signalling: number;
    readonly largestSignal: number;
    /** Messages sent to room members, and the batches (flushes) they went out in. */
    readonly rooms: number;
    readonly roomBatches: number;
  };
  /** Clients dropped (or requests refused), in all and by kind. */
  readonly dropped: { readonly total: number } & Partial<Record<DropKind, number>>;
  readonly memory: { readonly rss: number; readonly heapUsed: number };
}

/** The mutable counters behind {@link CoordinatorHealth}. */
export class Counters {
  readonly started = Date.now();
  signalling = 0;
  largestSignal = 0;
  readonly dropped: Partial<Record<DropKind, number>> = {};
  droppedTotal = 0;

  drop(kind: DropKind): void {
    this.dropped[kind] = (this.dropped[kind] ?? 0) + 1;
    this.droppedTotal++;
  }

  signal(bytes: number): void {
    this.signalling++;
    if (bytes > this.largestSignal) this.largestSignal = bytes;
  }
}
