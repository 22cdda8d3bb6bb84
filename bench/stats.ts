/** One row of the results: figures of several runs, and what they are measured against. */
export interface Scenario {
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  /** The figure it is measured against in the same run (a baseline), if any. */
  anchor: { name: string; median: number } | null;
  ratio: number | null;
  target?: string;
  note?: string;
}

export interface BenchConfig {
  readonly quick: boolean;
  readonly runs: number;
  readonly warmup: number;
  option(name: string, fallback: number): number;
}

export const round = (n: number) => Math.round(n * 100) / 100;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function summary(name: string, unit: string, values: number[]) {
  return {
    name,
    unit,
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    runs: values.length,
  };
}

export const progress = (line: string) => console.log(`  … ${line}`);

/** Fails loudly, naming the step, instead of hanging when a measured step never finishes. */
export function deadline<T>(promise: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${step} did not finish in ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Runs `measure` warm-up + measured times and keeps the measured figures; the warm-up's go to
 * `cold` when given. `warmup` overrides the config's for a scenario that needs more.
 */
export async function repeat<T>(
  config: BenchConfig,
  label: string,
  measure: () => Promise<T>,
  { warmup = config.warmup, cold }: { warmup?: number; cold?: T[] } = {},
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < warmup + config.runs; i++) {
    progress(`${label}: run ${i + 1} of ${warmup + config.runs}${i < warmup ? ' (warm-up)' : ''}`);
    const value = await measure();
    if (i >= warmup) out.push(value);
    else cold?.push(value);
  }
  return out;
}

/**
 * Warm-up runs of a chain scenario. The first chains of fresh tabs cost about twice the CPU per
 * hop of later ones, over lanes and WebRTC alike; profiled, every function of the per-task path
 * runs several times slower in them and garbage collection takes three times as long: code the
 * page's JIT has not optimised yet, most likely (BENCHMARKS.md, "Warm chains"). A chain figure
 * is of the warm path; the warm-up chains' median is in its note. `--warmup=0` warms nothing.
 */
export const chainWarmup = (config: BenchConfig) =>
  config.option('chain-warmup', config.warmup === 0 ? 0 : Math.max(config.warmup, 8));

/** The note's words for the warm-up chains' figure, in ms per hop (or task). */
export const coldNote = (cold: number[], length: number) =>
  cold.length === 0
    ? ''
    : `; the ${cold.length} warm-up chains before: median ${round(median(cold) / length)} ms`;
