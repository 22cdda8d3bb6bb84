import type { Page } from '@playwright/test';
import type { Page as FirefoxPage } from 'puppeteer-core';
import type { TaskSpec } from '../../../src/index.ts';
import { lanesOf, linkAll } from '../lanes-helpers.ts';
import { type AnyTab, result, run } from '../room.ts';
import { expect, firefoxTab, join, test } from './fixtures.ts';
import { peersOf, traffic } from './helpers.ts';

// Firefox and Chromium tabs in one room: each browser orchestrates, produces and consumes, with
// values going straight from producer to consumer over WebRTC between the two engines.

/** Two Chromium tabs and two Firefox tabs, each a browser of its own, in one room. */
async function mixedRoom(
  name: string,
  harnessPage: () => Promise<Page>,
  firefoxPage: () => Promise<FirefoxPage>,
) {
  return join(name, [
    { page: await harnessPage(), id: `${name}-C1` },
    firefoxTab(await firefoxPage(), `${name}-F1`),
    { page: await harnessPage(), id: `${name}-C2` },
    firefoxTab(await firefoxPage(), `${name}-F2`),
  ]);
}

test('a mixed room: DAGs orchestrated from Firefox and from Chromium at once, results from any tab, typed errors', async ({
  harnessPage,
  firefoxPage,
}) => {
  const [C1, F1, C2, F2] = await mixedRoom('mix', harnessPage, firefoxPage);
  const chain = (seed: number, a: AnyTab, b: AnyTab, c: AnyTab) => [
    { id: 'src', fn: 'identity', extraArgs: [seed], node: a.id },
    { id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2], node: b.id },
    { id: 'who', fn: 'tag', args: ['dbl'], node: c.id },
  ];
  // Each DAG crosses between the engines at every edge.
  const [r1, r2] = await Promise.all([
    run(F1, 'mix-one', chain(21, C1, F2, C2)),
    run(C1, 'mix-two', chain(5, F1, C2, F2)),
  ]);
  expect(r1.results).toEqual({ src: 21, dbl: 42, who: { x: 42, on: C2.id } });
  expect(r2.results).toEqual({ src: 5, dbl: 10, who: { x: 10, on: F2.id } });
  expect(r1.allocations).toEqual({ src: C1.id, dbl: F2.id, who: C2.id });
  expect(r2.allocations).toEqual({ src: F1.id, dbl: C2.id, who: F2.id });
  for (const tab of [C1, F1, C2, F2]) {
    // Every tab is a browser of its own: no lane, whichever engine is on the other side.
    expect(Object.values(await lanesOf(tab))).not.toContain('same-browser');
    expect(await result(tab, 'mix-one', 'dbl')).toEqual({ ok: true, value: 42 });
    expect(await result(tab, 'mix-two', 'who')).toEqual({ ok: true, value: { x: 10, on: F2.id } });
    expect(await result(tab, 'mix-nope', 'src')).toMatchObject({ ok: false, code: 'unknown_dag' });
  }
  const failed = await F2.page.evaluate(
    ({ id, C1 }) => {
      const dagId = window.harness.submit(id, 'mix-throws', [{ id: 'bad', fn: 'fail', node: C1 }], {
        maxRetries: 1,
      });
      return window.harness.runs.get(dagId)?.outcome;
    },
    { id: F2.id, C1: C1.id },
  );
  expect(failed).toMatchObject({ ok: false, name: 'TaskFailedError', taskId: 'bad', node: C1.id });
});

test('a 16 MiB Float64Array goes straight from producer to consumer across engines, both ways', async ({
  harnessPage,
  firefoxPage,
}) => {
  const [C1, F1, C2, F2] = await mixedRoom('mixbig', harnessPage, firefoxPage);
  const mib = 16;
  for (const [orchestrator, producer, consumer] of [
    [C2, F1, C1],
    [F2, C1, F1],
  ] as const) {
    const before = await Promise.all([producer, consumer, orchestrator].map(traffic));
    const dagId = `mixbig-${producer.id}`;
    const { results } = await run(
      orchestrator,
      dagId,
      [
        { id: 'floats', fn: 'bigFloats', extraArgs: [mib], node: producer.id },
        { id: 'check', fn: 'checkFloats', args: ['floats'], node: consumer.id },
      ],
      'sinks',
    );
    expect(results).toEqual({ check: { mib, wrong: 0 } });
    const after = await Promise.all([producer, consumer, orchestrator].map(traffic));
    const moved = (i: number, peer: string, way: 'sent' | 'received') =>
      (after[i]?.[peer]?.[way] ?? 0) - (before[i]?.[peer]?.[way] ?? 0);
    const bytes = mib << 20;
    expect(moved(0, consumer.id, 'sent')).toBeGreaterThanOrEqual(bytes);
    expect(moved(1, producer.id, 'received')).toBeGreaterThanOrEqual(bytes);
    // The orchestrator handled only small messages: the value never went through it.
    expect(moved(2, producer.id, 'received')).toBeLessThan(bytes / 10);
    expect(moved(2, consumer.id, 'received')).toBeLessThan(bytes / 10);
    // The consumer's tab kept its copy: result() there reads it whole.
    const whole = await consumer.page.evaluate(
      async ({ id, dagId }) => {
        const value = await window.harness.nodes.get(id)?.result(dagId, 'floats');
        return value instanceof Float64Array ? value.length : -1;
      },
      { id: consumer.id, dagId },
    );
    expect(whole).toBe(mib * 131_072);
  }
});

test('a closed Firefox tab holding intermediate results: a Chromium orchestrator recovers them', async ({
  harnessPage,
  firefoxPage,
}) => {
  const [A, F1, , F2] = await mixedRoom('mixclose', harnessPage, firefoxPage);
  await linkAll(A);
  const tasks: TaskSpec[] = [{ id: 'gate', fn: 'held', extraArgs: [0, 'go'], node: A.id }];
  // Producers spread over the room; their consumers wait for the gate.
  for (let i = 0; i < 12; i++) {
    tasks.push({ id: `p${i}`, fn: 'bytes', extraArgs: [1000 + i], cost: { cpu: 1 } });
    tasks.push({ id: `c${i}`, fn: 'length', args: [`p${i}`, 'gate'], cost: { cpu: 1 } });
  }
  tasks.push({ id: 'sum', fn: 'add', args: Array.from({ length: 12 }, (_, i) => `c${i}`) });
  await A.page.evaluate(
    ({ id, tasks }) => window.harness.submit(id, 'mixclose-dag', tasks, { collect: 'sinks' }),
    { id: A.id, tasks },
  );
  const status = () =>
    A.page.evaluate(() => window.harness.runs.get('mixclose-dag')?.handle.status());
  await expect
    .poll(async () =>
      Object.entries((await status())?.tasks ?? {}).filter(
        ([id, t]) => id.startsWith('p') && t.state === 'done',
      ),
    )
    .toHaveLength(12);
  const holders = Object.entries((await status())?.tasks ?? {})
    .filter(([id]) => id.startsWith('p'))
    .map(([, t]) => t.peer);
  const victim = [F1, F2].find((tab) => holders.includes(tab.id));
  if (victim === undefined) throw new Error(`no Firefox tab holds a producer: ${holders}`);
  await victim.tab.close();
  await expect.poll(() => peersOf(A)).not.toContain(victim.id);
  await A.page.evaluate(() => window.harness.open('go'));
  const out = await A.page.evaluate(() => window.harness.runs.get('mixclose-dag')?.outcome);
  const expected = Array.from({ length: 12 }, (_, i) => 1000 + i).reduce((a, b) => a + b, 0);
  expect(out).toMatchObject({ ok: true, results: { sum: expected } });
  // The closed tab's producers ran again elsewhere.
  const allocations = (out as { allocations: Record<string, string> }).allocations;
  expect(Object.values(allocations)).not.toContain(victim.id);
});
