import { pageHidden } from '../page.ts';

/** A timer this much past its time ran in a throttled (hidden) tab. */
const LATE_MS = 1000;

/** What a link's heartbeat does with its peer. */
export interface HeartbeatSide {
  /** Sends a ping numbered `n`. */
  ping(n: number): void;
  /** The peer is silent past every allowance: the link is gone. */
  gone(reason: string): void;
  /** A large message is crossing either way (its silence may be the pipe's, not the peer's). */
  busy?(): boolean;
}

/** A link's liveness, from {@link startHeartbeat}. */
export interface Heartbeat {
  /** Something arrived from the peer. */
  heard(): void;
  /** Milliseconds since anything arrived from the peer. */
  readonly silentMs: number;
  /** Pings now; the peer is gone unless something arrives within `timeoutMs`. */
  probe(timeoutMs: number, reason: string): void;
  stop(): void;
}

/**
 * A ping every beat, and a watchdog that declares the peer gone the moment it has been silent
 * for `deadAfterMs`: a timer set for that instant, not a check on the next heartbeat, which
 * would add up to a beat to the detection. A timer that fires more than a second late means
 * this tab was throttled (hidden: once a second, or once a minute after five minutes): its own
 * pings were late too, so the peer's silence proves nothing yet; nor does it in a hidden page
 * whose timers ran on time, as a peer hidden in the same window pings as seldom. Then the peer
 * is asked once, answers on receipt (a message, not a timer), and is declared gone only if the
 * next deadline passes with nothing heard. So is a peer while a large message crosses either
 * way: over WebRTC one lost packet stalls the whole ordered channel, pings behind the data, for
 * an SCTP retransmission timeout, and the timeout doubles each time the retransmission is lost
 * too (gaps of 1.2 s measured between two loaded tabs; two in a row outlast `deadAfterMs`). A
 * peer that hangs mid-transfer is then known gone at twice `deadAfterMs`. Anything heard from
 * the peer counts.
 */
export function startHeartbeat(
  side: HeartbeatSide,
  beatMs: number,
  deadAfterMs: number,
): Heartbeat {
  let lastHeard = Date.now();
  /** The watchdog could not trust its timers and asked the peer once; reset by anything heard. */
  let asked = false;
  let pings = 0;
  const timers: ReturnType<typeof setTimeout>[] = [];
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const ping = () => side.ping(pings++);
  const watch = (due?: number): void => {
    const now = Date.now();
    const left = lastHeard + deadAfterMs - now;
    const arm = (ms: number) => {
      watchdog = setTimeout(() => watch(now + ms), ms);
    };
    if (left >= 0) return arm(left + 1);
    const excused = due !== undefined && (now - due > LATE_MS || pageHidden() || side.busy?.());
    if (excused && !asked) {
      asked = true;
      ping();
      return arm(deadAfterMs);
    }
    side.gone('no heartbeat');
  };
  const beat = setInterval(ping, beatMs);
  watch();
  return {
    heard() {
      lastHeard = Date.now();
      asked = false;
    },
    get silentMs() {
      return Date.now() - lastHeard;
    },
    probe(timeoutMs, reason) {
      const at = Date.now();
      ping();
      timers.push(
        setTimeout(() => {
          if (lastHeard < at) side.gone(reason);
        }, timeoutMs),
      );
    },
    stop() {
      clearInterval(beat);
      clearTimeout(watchdog);
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
