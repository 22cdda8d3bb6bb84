// Recovery scenario, run inside pages: a layered DAG of 400 tasks over four tabs, with or
// without one worker tab closed halfway.
import { createNode, Dag, type HandoutNode, type RunHandle } from '../../src/index.ts';

/** Busy for `ms`, like real work on the main thread. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

const functions = {
  seed: (i: number, ms: number) => {
    spin(ms);
    return (i * 7919) % 1_000_003;
  },
  mix: (a: number, b: number, ms: number) => {
    spin(ms);
    return (a * 31 + b) % 1_000_003;
  },
};

let node: HandoutNode | undefined;
let current: { handle: RunHandle; started: number; halfway: Promise<void> } | undefined;

async function recoveryJoin(coordinator: string, room: string): Promise<string> {
  node = await createNode({ coordinator, room, functions, store: 'memory' });
  return node.id;
}

async function recoveryWait(count: number): Promise<void> {
  while ((node?.peers().length ?? 0) < count) await new Promise((r) => setTimeout(r, 20));
}

/** Starts a run of `layers` × `width` tasks of `ms` each; `halfway` resolves at half of them. */
function recoveryStart(layers: number, width: number, ms: number): void {
  if (node === undefined) throw new Error('join first');
  const dag = new Dag();
  for (let i = 0; i < width; i++) dag.add({ id: `L0_${i}`, fn: 'seed', extraArgs: [i, ms] });
  for (let k = 1; k < layers; k++) {
    for (let i = 0; i < width; i++) {
      dag.add({
        id: `L${k}_${i}`,
        fn: 'mix',
        args: [`L${k - 1}_${i}`, `L${k - 1}_${(i + 1) % width}`],
        extraArgs: [ms],
      });
    }
  }
  const handle = node.submit(dag, { collect: 'sinks' });
  let finished = 0;
  const halfway = new Promise<void>((resolve) => {
    handle.on('task:finished', () => {
      if (++finished === (layers * width) / 2) resolve();
    });
  });
  current = { handle, started: performance.now(), halfway };
}

/** Tasks of the current run not done yet, with state and peer: what a stuck run waits for. */
function recoveryPending(): string[] {
  const tasks = current?.handle.status().tasks ?? {};
  return Object.entries(tasks)
    .filter(([, t]) => t.state !== 'done')
    .map(([id, t]) => `${id}:${t.state}@${t.peer ?? '-'}`);
}

function recoveryHalfway(): Promise<void> | undefined {
  return current?.halfway;
}

/** Waits for the run; its milliseconds, a checksum of its results and tasks made again. */
async function recoveryFinish(): Promise<{ ms: number; checksum: number; lost: number }> {
  if (current === undefined) throw new Error('start first');
  const { handle, started } = current;
  let lost = 0;
  handle.on('task:lost', () => lost++);
  const { results } = await handle.done;
  const ms = performance.now() - started;
  const checksum = Object.values(results).reduce(
    (s: number, v) => (s + (v as number)) % 1_000_003,
    0,
  );
  return { ms, checksum, lost };
}

declare global {
  interface Window {
    recovery: {
      recoveryJoin: typeof recoveryJoin;
      recoveryWait: typeof recoveryWait;
      recoveryStart: typeof recoveryStart;
      recoveryHalfway: typeof recoveryHalfway;
      recoveryFinish: typeof recoveryFinish;
      recoveryPending: typeof recoveryPending;
    };
  }
}
window.recovery = {
  recoveryJoin,
  recoveryWait,
  recoveryStart,
  recoveryHalfway,
  recoveryFinish,
  recoveryPending,
};
