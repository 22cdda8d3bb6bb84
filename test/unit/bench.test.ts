import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every scenario `npm run bench` must report (issue 7). */
const NAMES = [
  'local-idb',
  'local-memory',
  'dispatch',
  'chain-hop',
  'chain-local',
  'many-dags',
  'transfer',
  'transfer-raw',
  'transfer-memory',
  'recovery',
  'transfer-node',
  'soak-heap',
  'small-dag',
  'small-dag-hidden',
  'chain-hop-hidden',
  'dispatch-hidden',
  'transfer-same-browser',
  'chain-hop-same-browser',
  'dispatch-same-browser',
  'leave-same-browser',
  'coordinator-load-1-room',
  'coordinator-load-100-rooms',
  'big-value',
  'big-value-fetch',
  'big-value-memory',
  'stream',
  'stream-as-dags',
  'stream-latency-p50',
  'stream-latency-p99',
];

describe('the benchmark harness', () => {
  it('runs `bench --quick` on a tiny size and writes every scenario to results.json', () => {
    const out = join(tmpdir(), `handout-bench-${process.pid}.json`);
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/run.ts',
        '--quick',
        '--warmup=0',
        '--runs=1',
        '--tasks=300',
        '--transfer-mib=1',
        '--dispatch-tasks=100',
        '--chain=10',
        '--dags=20',
        '--recovery-width=8',
        '--recovery-ms=1',
        '--soak-dags=200',
        '--hidden-tasks=100',
        '--hidden-chain=10',
        '--load-one-room=20',
        '--load-clients=60',
        '--load-rooms=6',
        '--big-mib=40',
        '--stream-items=200',
        '--latency-items=50',
        `--out=${out}`,
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(run.status, run.stderr).toBe(0);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    const markdown = readFileSync(out.replace(/\.json$/, '.md'), 'utf8');
    rmSync(out);
    rmSync(out.replace(/\.json$/, '.md'));
    expect(results.machine.cpus).toBeGreaterThan(0);
    const names = results.scenarios.map((s: { name: string }) => s.name);
    for (const name of NAMES) expect(names).toContain(name);
    for (const s of results.scenarios) {
      expect(Number.isFinite(s.median) && s.median > 0, `${s.name} median ${s.median}`).toBe(true);
      expect(s.min).toBeLessThanOrEqual(s.median);
      expect(s.max).toBeGreaterThanOrEqual(s.median);
      expect(s.runs).toBeGreaterThan(0);
      if (s.anchor !== null) expect(s.ratio).toBeCloseTo(s.median / s.anchor.median, 1);
      expect(markdown).toContain(`| ${s.name} |`);
    }
    // With Dask present its figures sit beside ours; without, the run says why.
    if (results.dask === null) expect(results.daskNote).toMatch(/dask/);
    else expect(names).toContain('transfer-dask');
    expect(run.stdout).toContain('recovery');
  }, 300_000);
});
