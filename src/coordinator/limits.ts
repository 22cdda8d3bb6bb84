/**
 * The coordinator's limits: what one client may cost it. Every limit has a default sized for
 * real rooms with room to spare, and each is a `startCoordinator` option and a CLI flag.
 */

/** Limits of {@link startCoordinator}; `0` turns a count limit off. */
export interface CoordinatorLimits {
  /**
   * Largest signalling message (an offer, an answer, an ICE candidate), in bytes. The largest
   * real ones measured are offers of 660-680 bytes (Chromium, and Node.js peers).
   * @default 4096
   */
  readonly maxSignalBytes?: number;
  /** Largest message on a room socket, whose members only listen. @default 256 */
  readonly maxRoomMessageBytes?: number;
  /** Longest node id. @default 128 */
  readonly maxIdLength?: number;
  /** Longest room name (a room key under a secret is 64 characters). @default 256 */
  readonly maxRoomNameLength?: number;
  /** Rooms one id may sit in at once (a node sits in one; a reload takes its seat over). @default 4 */
  readonly maxSeatsPerId?: number;
  /** Open sockets from one remote address, signalling and rooms together (a tab uses two). @default 256 */
  readonly maxConnectionsPerAddress?: number;
  /**
   * Messages a client may send per second on average; bursts of four seconds' worth pass
   * (a tab that meets a room of 50 sends an offer and candidates to each at once).
   * @default 100
   */
  readonly messagesPerSecond?: number;
  /** Signalling clients at once (PeerJS's `concurrent_limit`). @default 5000 */
  readonly maxClients?: number;
  /**
   * A signalling client silent this long is dropped (PeerJS's `alive_timeout`; clients send a
   * heartbeat every 5 s). @default 20000
   */
  readonly aliveTimeoutMs?: number;
}

export type Limits = Required<CoordinatorLimits>;

export const DEFAULT_LIMITS: Limits = {
  maxSignalBytes: 4096,
  maxRoomMessageBytes: 256,
  maxIdLength: 128,
  maxRoomNameLength: 256,
  maxSeatsPerId: 4,
  maxConnectionsPerAddress: 256,
  messagesPerSecond: 100,
  maxClients: 5000,
  aliveTimeoutMs: 20_000,
};

/** The limits with defaults filled in; a value that is not a whole number >= 0 is a RangeError. */
export function resolveLimits(given: CoordinatorLimits = {}): Limits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_LIMITS)) throw new RangeError(`unknown coordinator limit '${name}'`);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw new RangeError(`coordinator limit ${name} must be a whole number >= 0, got ${value}`);
    limits[name] = value;
  }
  const resolved = limits as unknown as Limits;
  for (const name of ['maxSignalBytes', 'maxRoomMessageBytes', 'maxIdLength'] as const)
    if (resolved[name] === 0) throw new RangeError(`coordinator limit ${name} must be above 0`);
  if (resolved.aliveTimeoutMs < 6000)
    throw new RangeError('aliveTimeoutMs must be at least 6000: clients beat every 5 s');
  return resolved;
}

/** True when `count` is within `limit` (0 = no limit). */
export const within = (count: number, limit: number): boolean => limit === 0 || count <= limit;

/**
 * A token bucket: `rate` tokens a second, holding at most four seconds' worth. `take` is false
 * once the client has spent more than that.
 */
export class RateLimit {
  #tokens: number;
  #at: number;
  readonly #capacity: number;

  constructor(
    readonly rate: number,
    readonly now: () => number = Date.now,
  ) {
    this.#capacity = rate * 4;
    this.#tokens = this.#capacity;
    this.#at = now();
  }

  take(): boolean {
    if (this.rate === 0) return true;
    const now = this.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#at) * this.rate) / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Open sockets per remote address. */
export class AddressBook {
  readonly #open = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Counts a socket in; false (and not counted) when the address is at its limit. */
  admit(address: string): boolean {
    const open = (this.#open.get(address) ?? 0) + 1;
    if (!within(open, this.limit)) return false;
    this.#open.set(address, open);
    return true;
  }

  release(address: string): void {
    const open = (this.#open.get(address) ?? 0) - 1;
    if (open <= 0) this.#open.delete(address);
    else this.#open.set(address, open);
  }

  get addresses(): number {
    return this.#open.size;
  }
}
