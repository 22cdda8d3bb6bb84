// Scale scenarios, run inside pages: a layered DAG of many trivial tasks, whose progress the
// bench watches from outside (to weigh the orchestrating tab's heap mid-run), and room formation.
import { createNode, Dag, type HandoutNode } from '../../src/index.ts';

const MOD = 1_000_003;
const functions = {
  one: (i: number) => i % MOD,
  mix: (a: number, b: number) => (a + 2 * b) % MOD,
};

let node: HandoutNode | undefined;
let running: Promise<boolean> | undefined;
let finished = 0;

async function join(coordinator: string, room: string): Promise<string> {
  node = await createNode({ coordinator, room, functions, store: 'memory' });
  return node.id;
}

/** Resolves once this tab sees `count` peers; the time it did. */
async function seen(count: number): Promise<number> {
  while ((node?.peers().length ?? 0) < count) await new Promise((r) => setTimeout(r, 5));
  return Date.now();
}

/**
 * `layers` layers of `width` tasks: layer 0 makes numbers, each later task mixes two of the
 * layer before (its own index and the next). Only the last layer is collected; it is checked
 * against the same arithmetic done here.
 */
function layered(width: number, layers: number): { dag: Dag; expected: number[] } {
  const dag = new Dag();
  let values = Array.from({ length: width }, (_, i) => i % MOD);
  for (let i = 0; i < width; i++) dag.add({ id: `0-${i}`, fn: 'one', extraArgs: [i] });
  for (let l = 1; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const j = (i + 1) % width;
      dag.add({ id: `${l}-${i}`, fn: 'mix', args: [`${l - 1}-${i}`, `${l - 1}-${j}`] });
    }
    values = values.map((v, i) => (v + 2 * (values[(i + 1) % width] as number)) % MOD);
  }
  return { dag, expected: values };
}

/** Starts a layered run of `tasks` tasks in `layers` layers; progress in `progress()`. */
function start(tasks: number, layers: number): number {
  if (node === undefined) throw new Error('join first');
  const width = Math.round(tasks / layers);
  const { dag, expected } = layered(width, layers);
  finished = 0;
  const handle = node.submit(dag, { collect: 'sinks' });
  handle.on('task:finished', () => {
    finished++;
  });
  const started = performance.now();
  running = handle.done.then(({ results }) => {
    const ms = performance.now() - started;
    (window as unknown as { lastMs: number }).lastMs = ms;
    return expected.every((v, i) => results[`${layers - 1}-${i}`] === v);
  });
  return width * layers;
}

const progress = () => finished;

/** Waits for the run started by {@link start}: its milliseconds and whether every result was right. */
async function wait(): Promise<{ ms: number; correct: boolean }> {
  const correct = (await running) ?? false;
  return { ms: (window as unknown as { lastMs: number }).lastMs, correct };
}

const links = () => node?.links();

declare global {
  interface Window {
    scale: {
      join: typeof join;
      seen: typeof seen;
      start: typeof start;
      progress: typeof progress;
      wait: typeof wait;
      links: typeof links;
    };
  }
}
window.scale = { join, seen, start, progress, wait, links };
