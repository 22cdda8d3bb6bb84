// The randomized model test across real tabs: four tabs in a room run seeded sequences of ops
// (runs with random pins, fixed and fresh ids, re-runs, holds, clears, results, status, cancels,
// reloads, replaced tabs), each checked against the model. CI runs a fixed seed; `npm run soak`
// runs fresh seeds for as long as asked.

import { runSequence } from '../model/sequence.ts';
import { TabDriver } from '../model/tab-driver.ts';
import { expect, test } from './fixtures.ts';
import { coordinator } from './room.ts';

const SEED = Number(process.env.MODEL_SEED ?? 20_261_202);
const STEPS = Number(process.env.MODEL_STEPS ?? 200);

test('seeded sequences of ops from random tabs match the model', async ({ harnessPage }) => {
  test.setTimeout(600_000);
  const driver = await TabDriver.start(4, {
    coordinator: coordinator(),
    room: 'model',
    openTab: () => harnessPage(),
  });
  try {
    const report = await runSequence(driver, SEED, STEPS);
    expect(report.ops).toBe(STEPS);
    test.info().annotations.push({ type: 'ops', description: JSON.stringify(report.kinds) });
  } finally {
    await driver.close();
  }
});
