// The randomized model test's unit-level twin: many seeded sequences of ops over the in-memory
// transport, in fake time (so a hang shows at once, and thousands of ops take seconds). Its
// browser twin runs the same generator and model across real tabs (test/browser/model.spec.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryDriver } from '../model/memory-driver.ts';
import { runSequence } from '../model/sequence.ts';

const SEQUENCES = Number(process.env.MODEL_SEQUENCES ?? 500);
const FIRST_SEED = Number(process.env.MODEL_SEED ?? 1);
const STEPS = 25;

afterEach(() => {
  vi.useRealTimers();
});

describe('the randomized model test over the in-memory transport', () => {
  it(`${SEQUENCES} seeded sequences of ${STEPS} ops each match the model`, async () => {
    let ops = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEQUENCES; seed++) {
      vi.useFakeTimers();
      const driver = await MemoryDriver.start(4);
      try {
        ops += (await runSequence(driver, seed, STEPS)).ops;
      } finally {
        await driver.close();
        vi.useRealTimers();
      }
    }
    expect(ops).toBe(SEQUENCES * STEPS);
  }, 600_000);
});
