// Swarm scenarios, run inside pages: dispatch throughput, chains, many small DAGs.
import { createNode, Dag, type HandoutNode } from '../../src/index.ts';

const functions = {
  /** `mib` MiB of doubles, element i holding i. */
  big: (mib: number) => {
    const values = new Float64Array(mib * 131_072);
    for (let i = 0; i < values.length; i++) values[i] = i;
    return values;
  },
  /** How many elements of a `big` value are wrong: 0 when it arrived intact. */
  wrong: (values: Float64Array) => {
    let wrong = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== i) wrong++;
    return wrong;
  },
  seed: () => 1,
  inc: (x: number) => x + 1,
  add: (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
};

let node: HandoutNode | undefined;

async function swarmJoin(
  coordinator: string,
  room: string,
  store?: 'memory' | 'indexeddb',
): Promise<string> {
  node = await createNode({ coordinator, room, functions, store });
  return node.id;
}

async function swarmWait(count: number): Promise<void> {
  while ((node?.peers().length ?? 0) < count) await new Promise((r) => setTimeout(r, 20));
}

/** Resolves with the time this tab learns that peer `id` left. */
function leftAt(id: string): Promise<number> {
  return new Promise((resolve) => {
    const off = self().on('peer:leave', (p) => {
      if (p.id !== id) return;
      off();
      resolve(Date.now());
    });
  });
}

function self(): HandoutNode {
  if (node === undefined) throw new Error('join first');
  return node;
}

/** `tasks` independent trivial tasks; resolves with the milliseconds and the peers used. */
async function dispatch(tasks: number): Promise<{ ms: number; peers: number }> {
  const dag = new Dag();
  for (let i = 0; i < tasks; i++) dag.add({ id: `t${i}`, fn: 'seed' });
  const started = performance.now();
  const { results, allocations } = await self().execute(dag);
  const ms = performance.now() - started;
  if (Object.values(results).some((v) => v !== 1)) throw new Error('wrong dispatch result');
  await self().clear(dag.id);
  return { ms, peers: new Set(Object.values(allocations)).size };
}

/** A chain of `length` dependent tasks, pinned alternately on `pins` (or unpinned). */
async function chain(length: number, pins: string[] | null): Promise<number> {
  const dag = new Dag();
  for (let i = 0; i < length; i++) {
    const node = pins === null ? undefined : pins[i % pins.length];
    dag.add(
      i === 0
        ? { id: 't0', fn: 'seed', node }
        : { id: `t${i}`, fn: 'inc', args: [`t${i - 1}`], node },
    );
  }
  const started = performance.now();
  const { results } = await self().execute(dag, { collect: 'sinks' });
  const ms = performance.now() - started;
  if (results[`t${length - 1}`] !== length) throw new Error('wrong chain result');
  await self().clear(dag.id);
  return ms;
}

/**
 * A `mib` MiB value made on peer `maker` and checked on peer `taker` (this tab runs neither):
 * resolves with the milliseconds from submit to done, the checker's verdict, and the fetch time.
 */
async function bigValue(
  mib: number,
  maker: string,
  taker: string,
): Promise<{ ms: number; fetchMs: number }> {
  const dag = new Dag()
    .add({ id: 'big', fn: 'big', extraArgs: [mib], node: maker })
    .add({ id: 'wrong', fn: 'wrong', args: ['big'], node: taker });
  const started = performance.now();
  const handle = self().submit(dag, { collect: 'sinks' });
  let fetchMs = 0;
  handle.on('task:fetched', (f) => {
    fetchMs = f.ms;
  });
  const { results } = await handle.done;
  const ms = performance.now() - started;
  if (results.wrong !== 0) throw new Error(`big value: ${String(results.wrong)} elements wrong`);
  await self().clear(dag.id);
  return { ms, fetchMs };
}

/** Holds `mib` MiB of touched memory until `release`: how the bench finds this tab's process. */
const ballast: Uint8Array[] = [];
const hold = (mib: number) => {
  ballast.push(new Uint8Array(mib << 20).fill(1));
};
const release = () => {
  ballast.length = 0;
};

/** A DAG of 5 tasks whose `sum` is 3i + 3: `src` = i, three `inc`s of it, their sum. */
function diamond(i: number): Dag {
  return new Dag()
    .add({ id: 'src', fn: 'add', extraArgs: [i] })
    .add({ id: 'a', fn: 'inc', args: ['src'] })
    .add({ id: 'b', fn: 'inc', args: ['src'] })
    .add({ id: 'c', fn: 'inc', args: ['src'] })
    .add({ id: 'sum', fn: 'add', args: ['a', 'b', 'c'] });
}

/** `count` DAGs of 5 tasks at once; resolves with milliseconds and whether every result was right. */
async function manyDags(count: number): Promise<{ ms: number; correct: boolean }> {
  const started = performance.now();
  const runs = Array.from({ length: count }, async (_, i) => {
    const { results } = await self().execute(diamond(i), { collect: 'sinks' });
    return results.sum === 3 * i + 3;
  });
  const correct = (await Promise.all(runs)).every(Boolean);
  return { ms: performance.now() - started, correct };
}

/**
 * `count` DAGs of 5 tasks, at most `inFlight` at once, every other one with `collect: 'none'`
 * (its results stay where they were made): the long life `soak-heap` measures.
 */
async function soak(count: number, inFlight: number, offset: number): Promise<boolean> {
  let next = 0;
  let correct = true;
  const lane = async () => {
    while (next < count) {
      const i = offset + next++;
      const none = i % 2 === 1;
      const { results } = await self().execute(diamond(i), { collect: none ? 'none' : 'sinks' });
      if (!none && results.sum !== 3 * i + 3) correct = false;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return correct;
}

/** input -> inc -> inc -> inc, one stage pinned on each of `pins`. */
function threeIncs(pins: string[]): Dag {
  return new Dag()
    .add({ id: 'in', input: true })
    .add({ id: 'a', fn: 'inc', args: ['in'], node: pins[0] })
    .add({ id: 'b', fn: 'inc', args: ['a'], node: pins[1] })
    .add({ id: 'c', fn: 'inc', args: ['b'], node: pins[2] });
}

/** `count` items through a 3-stage pipeline; resolves with milliseconds and whether all were right. */
async function streamItems(
  count: number,
  pins: string[],
): Promise<{ ms: number; correct: boolean }> {
  const pipeline = self().stream(threeIncs(pins));
  await pipeline.ready;
  const started = performance.now();
  let correct = true;
  const pushing = (async () => {
    for (let i = 0; i < count; i++) await pipeline.push(i);
  })();
  let seen = 0;
  for await (const item of pipeline) {
    if (item.value !== item.id + 3) correct = false;
    if (++seen === count) break;
  }
  await pushing;
  return { ms: performance.now() - started, correct };
}

/** The same work as `streamItems`, one small DAG per item through `execute`, 64 at once. */
async function streamAsDags(
  count: number,
  pins: string[],
): Promise<{ ms: number; correct: boolean }> {
  const started = performance.now();
  let next = 0;
  let correct = true;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const dag = new Dag()
        .add({ id: 'in', fn: 'add', extraArgs: [i], node: pins[0] })
        .add({ id: 'a', fn: 'inc', args: ['in'], node: pins[0] })
        .add({ id: 'b', fn: 'inc', args: ['a'], node: pins[1] })
        .add({ id: 'c', fn: 'inc', args: ['b'], node: pins[2] });
      const { results } = await self().execute(dag, { collect: 'sinks' });
      if (results.c !== i + 3) correct = false;
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  return { ms: performance.now() - started, correct };
}

/** Items pushed at `rate` per second through the pipeline: each one's ms from push to out. */
async function streamLatency(count: number, rate: number, pins: string[]): Promise<number[]> {
  const pipeline = self().stream(threeIncs(pins));
  await pipeline.ready;
  const pushedAt: number[] = [];
  const took: number[] = [];
  const reading = (async () => {
    for await (const item of pipeline) {
      took.push(performance.now() - (pushedAt[item.id] as number));
      if (took.length === count) break;
    }
  })();
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pushedAt[i] = performance.now();
    await pipeline.push(i);
  }
  await reading;
  return took;
}

declare global {
  interface Window {
    swarm: {
      swarmJoin: typeof swarmJoin;
      swarmWait: typeof swarmWait;
      dispatch: typeof dispatch;
      chain: typeof chain;
      manyDags: typeof manyDags;
      soak: typeof soak;
      streamItems: typeof streamItems;
      streamAsDags: typeof streamAsDags;
      streamLatency: typeof streamLatency;
      leftAt: typeof leftAt;
      bigValue: typeof bigValue;
      hold: typeof hold;
      release: typeof release;
    };
  }
}
window.swarm = {
  swarmJoin,
  swarmWait,
  dispatch,
  chain,
  manyDags,
  soak,
  streamItems,
  streamAsDags,
  streamLatency,
  leftAt,
  bigValue,
  hold,
  release,
};
