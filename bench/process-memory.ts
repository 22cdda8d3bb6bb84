// Peak memory of a browser's renderer processes, read from /proc (Linux): reset the peak with
// clear_refs, run the scenario, read VmHWM. Counts ArrayBuffer backing stores, which the JS
// heap figures leave out.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export function rendererPids(browserPid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), args: args.join(' ') };
    });
  const descendants = new Set([browserPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of table) {
      if (descendants.has(p.ppid) && !descendants.has(p.pid)) {
        descendants.add(p.pid);
        grew = true;
      }
    }
  }
  return table
    .filter((p) => descendants.has(p.pid) && p.args.includes('--type=renderer'))
    .map((p) => p.pid);
}

export function status(pid: number, field: string): number {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(
    new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
  );
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resets the peak and returns the current resident size of each process. */
export function resetPeaks(pids: number[]): Map<number, number> {
  const base = new Map<number, number>();
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // not permitted here: the peak then covers the process's whole life
    }
    base.set(pid, status(pid, 'VmRSS'));
  }
  return base;
}

/** The largest growth of peak resident size over the baseline, across the processes. */
export function peakGrowth(base: Map<number, number>): number {
  let growth = 0;
  for (const [pid, rss] of base) growth = Math.max(growth, status(pid, 'VmHWM') - rss);
  return growth;
}

/** CPU time (user and system, in clock ticks) a process has used. */
function ticks(pid: number): number {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/**
 * Which of `pids` renders `page`: the one that spends the CPU while the page spins for 300 ms
 * (Playwright does not give a page's process). Tried up to three times, as a tab just joined
 * may be busy too. Undefined when no process clearly did.
 */
export async function pidOf(
  page: { evaluate(fn: () => void): Promise<void> },
  pids: number[],
): Promise<number | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = new Map(pids.map((pid) => [pid, ticks(pid)]));
    await page.evaluate(() => {
      const end = performance.now() + 300;
      while (performance.now() < end);
    });
    const spent = pids.map((pid) => ({ pid, ticks: ticks(pid) - (before.get(pid) ?? 0) }));
    spent.sort((x, y) => y.ticks - x.ticks);
    const [first, second] = spent;
    // 300 ms is 30 ticks at the usual 100 Hz.
    if (first !== undefined && first.ticks >= 20 && first.ticks >= 2 * (second?.ticks ?? 0))
      return first.pid;
  }
  return undefined;
}

export function canMeasure(): boolean {
  try {
    readFileSync('/proc/self/status', 'utf8');
    return true;
  } catch {
    return false;
  }
}
