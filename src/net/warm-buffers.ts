import type { WarmReply, WarmRequest } from './warm-worker.ts';

/**
 * Where a large binary arriving over a lane gets its memory: a buffer of exactly `bytes`, on its
 * way (or undefined: then the reader makes its own, as for any other binary).
 */
export type Allocate = (bytes: number) => Promise<Uint8Array | undefined> | undefined;

/** Binaries at least this large are worth a trip to the worker; smaller ones are made in place. */
const WARM_MIN_BYTES = 4 << 20;
/** The worker is let go after this long with nothing to do; the next large binary starts one. */
const IDLE_MS = 30_000;

let worker: Worker | undefined;
/** The worker could not start or failed (a page's CSP may forbid it): none is tried again. */
let broken = false;
let next = 0;
let idle: ReturnType<typeof setTimeout> | undefined;
const waiting = new Map<number, (buffer: Uint8Array | undefined) => void>();

/**
 * An {@link Allocate} that has a helper Worker make the buffer and write each page of it once,
 * while the binary's bytes stream in, and hand it back transferred (not copied).
 *
 * Why: the first touch of a fresh page costs the toucher (about 12 µs a 4 KiB page on the VMs we
 * measure on, under 1 µs on most laptops): 0.2 s for 64 MiB there. The receiving tab took those
 * faults as it copied each frame into the value, on the thread that also deserialises the frames,
 * the slower side of a lane transfer. The worker takes them on another thread. Without Workers,
 * or when one cannot start, the reader allocates as before.
 */
export const warmBuffer: Allocate = (bytes) => {
  if (bytes < WARM_MIN_BYTES) return undefined;
  const helper = start();
  if (helper === undefined) return undefined;
  clearTimeout(idle);
  const n = next++;
  return new Promise((resolve) => {
    waiting.set(n, resolve);
    helper.postMessage({ n, bytes } satisfies WarmRequest);
  });
};

function start(): Worker | undefined {
  if (worker !== undefined || broken) return worker;
  try {
    if (typeof Worker === 'undefined') throw new TypeError('no Web Workers here');
    worker = new Worker(new URL('./warm-worker.ts', import.meta.url), {
      type: 'module',
      name: 'handout-warm',
    });
  } catch {
    broken = true;
    return undefined;
  }
  worker.onmessage = ({ data }: MessageEvent<WarmReply>) => {
    const resolve = waiting.get(data.n);
    waiting.delete(data.n);
    resolve?.(data.buffer === null ? undefined : new Uint8Array(data.buffer));
    if (waiting.size === 0) idle = setTimeout(stop, IDLE_MS);
  };
  // A script the page may not load (CSP) or a worker that died: what waits is made in place.
  const failed = () => {
    broken = true;
    stop();
  };
  worker.onerror = failed;
  worker.onmessageerror = failed;
  return worker;
}

function stop(): void {
  clearTimeout(idle);
  worker?.terminate();
  worker = undefined;
  for (const resolve of waiting.values()) resolve(undefined);
  waiting.clear();
}
