/** A timer this much past its time ran in a throttled (hidden) tab. */
const LATE_MS = 1000;

/** What a link's heartbeat does with its peer. */
export interface HeartbeatSide {
  /** Sends a ping numbered `n`. */
  ping(n: number): void;
  /** The peer is silent past every allowance: the link is gone. */
  gone(reason: string): void;
}

/**
 * A link's liveness: a ping every beat, and a watchdog that declares the peer gone the moment
 * it has been silent for `deadAfterMs`. Anything heard from the peer counts ({@link heard}).
 */
export class Heartbeat {
  #lastHeard = Date.now();
  /** The watchdog ran late and asked the peer once; reset by anything heard. */
  #askedLate = false;
  #pings = 0;
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  readonly #beat: ReturnType<typeof setInterval>;
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly side: HeartbeatSide,
    beatMs: number,
    deadAfterMs: number,
  ) {
    this.#beat = setInterval(() => this.ping(), beatMs);
    this.#watch(deadAfterMs);
  }

  /** Something arrived from the peer. */
  heard(): void {
    this.#lastHeard = Date.now();
    this.#askedLate = false;
  }

  /** Milliseconds since anything arrived from the peer. */
  get silentMs(): number {
    return Date.now() - this.#lastHeard;
  }

  ping(): void {
    this.side.ping(this.#pings++);
  }

  /** Pings now; the peer is gone unless something arrives within `timeoutMs`. */
  probe(timeoutMs: number, reason: string): void {
    const asked = Date.now();
    this.ping();
    this.#timers.push(
      setTimeout(() => {
        if (this.#lastHeard < asked) this.side.gone(reason);
      }, timeoutMs),
    );
  }

  stop(): void {
    clearInterval(this.#beat);
    clearTimeout(this.#watchdog);
    for (const timer of this.#timers) clearTimeout(timer);
  }

  /**
   * Declares the peer gone the moment it has been silent for `deadAfter` ms: a timer set for
   * that instant, not a check on the next heartbeat, which would add up to a beat to the
   * detection. A timer that fires more than a second late means this tab was throttled (hidden:
   * once a second, or once a minute after five minutes): its own pings were late too, so the
   * peer's silence proves nothing yet. The peer is asked once, answers on receipt (a message,
   * not a timer), and is declared gone only if the next deadline passes with nothing heard.
   */
  #watch(deadAfter: number, due?: number): void {
    const now = Date.now();
    const left = this.#lastHeard + deadAfter - now;
    const arm = (ms: number) => {
      this.#watchdog = setTimeout(() => this.#watch(deadAfter, now + ms), ms);
    };
    if (left >= 0) return arm(left + 1);
    if (due !== undefined && now - due > LATE_MS && !this.#askedLate) {
      this.#askedLate = true;
      this.ping();
      return arm(deadAfter);
    }
    this.side.gone('no heartbeat');
  }
}
