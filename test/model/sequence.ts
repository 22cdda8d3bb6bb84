// Seeded sequences of operations from random nodes, each checked against the model. A failure
// names the seed and lists every op up to it, so the case can be replayed (and kept as a test).

import { prng } from '../prng.ts';
import { Model, type Model as ModelType, randomTasks, show } from './model.ts';
import type { Driver, Op } from './ops.ts';

/** DAG ids given by name: re-runs, clears and collisions happen on these. */
const NAMES = ['alpha', 'beta', 'gamma'];

/** Picks the next op from what the room is now. */
export function nextOp(rand: () => number, model: ModelType, step: number): Op {
  const ids = model.ids;
  const slot = () => Math.floor(rand() * ids.length);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const idle = ids.map((id, i) => [id, i] as const).filter(([id]) => !model.busy(id));
  const live = model.liveIds;
  const known = model.dagIds;
  const choices: [number, () => Op][] = [
    [
      30,
      () => ({
        kind: 'run',
        at: slot(),
        dagId: rand() < 0.5 ? undefined : pick(NAMES),
        tasks: randomTasks(rand, ids),
      }),
    ],
    [
      live.length < 2 ? 10 : 0,
      () => ({
        kind: 'hold',
        at: slot(),
        dagId: pick(NAMES),
        on: slot(),
        gate: `gate-${step}`,
        value: Math.floor(rand() * 1000),
      }),
    ],
    [live.length > 0 ? 10 : 0, () => ({ kind: 'release', dagId: pick(live) })],
    [live.length > 0 ? 4 : 0, () => ({ kind: 'cancel', dagId: pick(live) })],
    [8, () => ({ kind: 'clear', at: slot(), dagId: pick([...known, ...NAMES]) })],
    [
      18,
      () => {
        const dagId = pick([...known, ...NAMES]);
        const tasks = model.tasksOf(dagId);
        return {
          kind: 'result',
          at: slot(),
          dagId,
          taskId: rand() < 0.9 && tasks.length > 0 ? pick(tasks) : 'nope',
        };
      },
    ],
    [10, () => ({ kind: 'status', at: slot(), dagId: pick([...known, ...NAMES]) })],
    [
      idle.length > 0 ? 3 : 0,
      () => ({ kind: 'reload', at: (pick(idle) as readonly [string, number])[1] }),
    ],
    [
      idle.length > 0 ? 2 : 0,
      () => ({ kind: 'replace', at: (pick(idle) as readonly [string, number])[1] }),
    ],
  ];
  const total = choices.reduce((s, [w]) => s + w, 0);
  let r = rand() * total;
  for (const [w, make] of choices) {
    if (r < w) return make();
    r -= w;
  }
  return (choices[0] as [number, () => Op])[1]();
}

export interface SequenceReport {
  readonly seed: number;
  readonly ops: number;
  /** How many ops of each kind ran, and how many of them gave an error. */
  readonly kinds: Record<string, number>;
}

/**
 * Runs `steps` ops chosen from `seed` through `driver`, checking each outcome against the model.
 * Throws an error naming the seed and the ops so far at the first wrong outcome (a hang is one:
 * the driver bounds every op).
 */
export async function runSequence(
  driver: Driver,
  seed: number,
  steps: number,
): Promise<SequenceReport> {
  const rand = prng(seed);
  const model = new Model();
  const log: string[] = [];
  const kinds: Record<string, number> = {};
  for (let step = 0; step < steps; step++) {
    model.ids = driver.ids();
    const op = nextOp(rand, model, step);
    const check = model.expect(op);
    const outcome = await driver.apply(op);
    const kind = outcome.ok ? op.kind : `${op.kind}:${outcome.code}`;
    kinds[kind] = (kinds[kind] ?? 0) + 1;
    log.push(`${step}: ${JSON.stringify(op)} -> ${show(outcome)} [ids ${model.ids.join(',')}]`);
    const wrong = check(outcome);
    if (wrong !== undefined) {
      throw new Error(
        `model test failed: seed ${seed}, step ${step}: ${wrong}\nreplay with seed ${seed}; ops so far:\n${log.join('\n')}`,
      );
    }
    model.update(op, outcome);
  }
  // Leave no run live: release what is still held.
  for (const dagId of model.liveIds) await driver.apply({ kind: 'release', dagId });
  return { seed, ops: steps, kinds };
}
