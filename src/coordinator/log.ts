/**
 * The coordinator's log: structured entries, one per event, and a gate that keeps a flood of
 * bad clients from flooding the log too.
 */

/** One log entry: what happened (`event`) and its fields. */
export interface CoordinatorLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  /** `listening`, `join`, `leave`, `refused`, `fault`, `shutdown`... */
  readonly event: string;
  readonly [field: string]: unknown;
}

export type CoordinatorLog = (entry: CoordinatorLogEntry) => void;

/** One line of text for a person: time, event, then the fields as `key=value`. */
export function formatText(entry: CoordinatorLogEntry, time = new Date()): string {
  const { level, event, ...fields } = entry;
  const parts = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  const mark = level === 'info' ? '' : ` ${level.toUpperCase()}`;
  return `${time.toISOString().slice(11, 23)}${mark} ${event.padEnd(8)} ${parts.join(' ')}`.trimEnd();
}

/** One JSON object per line, with the time first. */
export function formatJson(entry: CoordinatorLogEntry, time = new Date()): string {
  return JSON.stringify({ time: time.toISOString(), ...entry });
}

/**
 * Lets through at most one entry per client key per `perKeyMs`, and at most `perSecond` entries
 * a second in all; what it holds back is counted and reported on the next entry it lets through.
 */
export class LogGate {
  readonly #seen = new Map<string, number>();
  #second = 0;
  #inSecond = 0;
  #suppressed = 0;

  constructor(
    readonly log: CoordinatorLog,
    readonly perKeyMs = 60_000,
    readonly perSecond = 20,
    readonly now: () => number = Date.now,
  ) {}

  write(key: string, entry: CoordinatorLogEntry): void {
    const now = this.now();
    const last = this.#seen.get(key);
    if (last !== undefined && now - last < this.perKeyMs) {
      this.#suppressed++;
      return;
    }
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#inSecond = 0;
    }
    if (this.#inSecond >= this.perSecond) {
      this.#suppressed++;
      return;
    }
    this.#inSecond++;
    if (this.#seen.size >= 10_000) this.#forget(now);
    this.#seen.set(key, now);
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.log(suppressed > 0 ? { ...entry, suppressed } : entry);
  }

  /** Keeps the per-key memory bounded under a flood of distinct clients. */
  #forget(now: number): void {
    for (const [key, at] of this.#seen) if (now - at >= this.perKeyMs) this.#seen.delete(key);
    if (this.#seen.size >= 10_000) this.#seen.clear();
  }
}
