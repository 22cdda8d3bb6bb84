import { storedSize } from './size.ts';

/** A write as `spaceError` sizes it. */
interface Sized {
  readonly kind: string;
  readonly value?: unknown;
  readonly split?: { readonly bytes: number } | undefined;
}

/** The storage quota ran out: how much the writes needed, and what the origin has. */
export class QuotaError extends Error {
  override name = 'QuotaExceededError';
  constructor(
    /** Bytes the failed writes needed, roughly. */
    readonly needed: number,
    /** `navigator.storage.estimate()` when the write failed, where there is one. */
    readonly usage: number | undefined,
    readonly quota: number | undefined,
    cause: unknown,
  ) {
    const estimate =
      usage === undefined || quota === undefined
        ? 'no storage estimate here'
        : `the origin uses ${mib(usage)} of its ${mib(quota)} quota (navigator.storage.estimate())`;
    super(`storage quota exceeded: needed about ${mib(needed)}; ${estimate}`, { cause });
  }
}

/** A {@link QuotaError} when `cause` says the quota ran out, else undefined. */
export async function spaceError(
  cause: unknown,
  writes: readonly Sized[],
): Promise<QuotaError | undefined> {
  if (!(cause instanceof Error) || cause.name !== 'QuotaExceededError') return undefined;
  const needed = writes.reduce(
    (sum, w) => sum + (w.kind !== 'put' ? 0 : (w.split?.bytes ?? storedSize(w.value))),
    0,
  );
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage;
  const estimate = await storage?.estimate?.().catch(() => undefined);
  return new QuotaError(needed, estimate?.usage, estimate?.quota, cause);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
