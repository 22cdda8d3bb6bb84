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

/** Runs `measure` warm-up + measured times and keeps the measured figures. */
export async function repeat<T>(
  config: BenchConfig,
  label: string,
  measure: () => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < config.warmup + config.runs; i++) {
    progress(
      `${label}: run ${i + 1} of ${config.warmup + config.runs}${i < config.warmup ? ' (warm-up)' : ''}`,
    );
    const value = await measure();
    if (i >= config.warmup) out.push(value);
  }
  return out;
}
