// Runs bench/dask_bench.py with a Python that can import dask.distributed (Debian's
// python3-distributed), if there is one: the same workloads, on the same machine, in the same run.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progress } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface DaskFigures {
  readonly version: string;
  readonly scenarios: Record<string, { median: number; min: number; max: number; runs: number }>;
}

export interface DaskSizes {
  readonly tasks: number;
  readonly chain: number;
  readonly dags: number;
  readonly transferMib: number;
  readonly streamItems: number;
  readonly warmup: number;
  readonly runs: number;
}

/** The first Python that imports dask.distributed, if any. */
function findPython(): string | undefined {
  for (const python of [process.env.DASK_PYTHON, 'python3', '/usr/bin/python3', 'python']) {
    if (python === undefined) continue;
    const probe = spawnSync(python, ['-c', 'import dask.distributed'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/** Dask's figures, or why there are none. */
export function runDask(sizes: DaskSizes): DaskFigures | string {
  const python = findPython();
  if (python === undefined)
    return 'no python3 here can import dask.distributed (Debian: apt-get install python3-distributed)';
  progress(`dask: LocalCluster of 4 single-threaded workers (${python})`);
  const { tasks, chain, dags, transferMib, warmup, runs, streamItems } = sizes;
  const args = [tasks, chain, dags, transferMib, warmup, runs, streamItems];
  const run = spawnSync(python, [resolve(here, 'dask_bench.py'), ...args.map(String)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  if (run.status !== 0) return `the Dask run failed (exit ${run.status ?? run.signal})`;
  try {
    return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as DaskFigures;
  } catch {
    return 'the Dask run printed no figures';
  }
}

/** Scenarios measured on Dask too: ours -> Dask's figure of the same workload. */
const COMPARED = ['dispatch', 'chain-hop', 'chain-local', 'many-dags', 'stream'] as const;

/**
 * Puts Dask's figures beside ours: as the anchor of each compared scenario, and as a row of its
 * own for the transfer (whose anchor stays the raw data channel measured in the same run).
 */
export function withDask<S extends { name: string; median: number; note?: string }>(
  scenarios: (S & { anchor: { name: string; median: number } | null; ratio: number | null })[],
  dask: DaskFigures,
): typeof scenarios {
  const round = (n: number) => Math.round(n * 100) / 100;
  const out = scenarios.map((s) => {
    const theirs = (COMPARED as readonly string[]).includes(s.name)
      ? dask.scenarios[s.name]
      : undefined;
    if (theirs === undefined) return s;
    return {
      ...s,
      anchor: { name: `dask-${s.name}`, median: round(theirs.median) },
      ratio: round(s.median / theirs.median),
    };
  });
  const transfer = dask.scenarios.transfer;
  const ours = out.find((s) => s.name === 'transfer');
  if (transfer !== undefined && ours !== undefined) {
    const at = out.indexOf(ours);
    out.splice(at + 1, 0, {
      ...ours,
      name: 'transfer-dask',
      median: round(transfer.median),
      min: round(transfer.min),
      max: round(transfer.max),
      runs: transfer.runs,
      anchor: null,
      ratio: null,
      target: undefined,
      note: `the same payload between two Dask ${dask.version} worker processes over loopback TCP; Handout moves it at ${round(ours.median / transfer.median)}x this`,
    } as (typeof out)[number]);
  }
  const same = out.find((s) => s.name === 'transfer-same-browser');
  if (transfer !== undefined && same !== undefined)
    Object.assign(same, {
      note: `${same.note}; ${round(same.median / transfer.median)}x Dask's transfer-dask`,
    });
  return out;
}
