import type { Page } from '@playwright/test';
import type { TaskSpec } from '../../src/index.ts';
import { expect, test } from './fixtures.ts';
import { browserOf, lanesOf, linkAll, MiB, pipelineSum, tabs, webRtc } from './lanes-helpers.ts';
import { coordinator, result, run, type Tab } from './room.ts';

/**
 * Tabs of one browser (one Playwright context) talk over MessagePorts; other browsers (other
 * contexts) over WebRTC. Every page counts, from outside the library, the RTCPeerConnections it
 * made and the bytes it sent down RTCDataChannels. Each test runs twice: as a browser has it, and
 * with `SharedWorker` removed (some mobile browsers and webviews), where everything is WebRTC.
 */
for (const shared of [true, false]) {
  const lane = shared ? 'same-browser' : 'webrtc';
  test.describe(shared ? 'tabs of one browser' : 'tabs of one browser without SharedWorker', () => {
    test(`a pinned diamond and a 32 MiB pipeline over ${lane}`, async ({
      browser,
      harnessPage,
    }) => {
      const context = await browserOf(browser, shared);
      const [A, B, C] = await tabs(harnessPage, `one-${lane}`, [context, context, context]);
      await linkAll(A, B, C);
      for (const tab of [A, B, C]) expect(Object.values(await lanesOf(tab))).toEqual([lane, lane]);

      const diamond = await run(A, `diamond-${lane}`, [
        { id: 'x', fn: 'identity', extraArgs: [3], node: A.id },
        { id: 'left', fn: 'multiply', args: ['x'], extraArgs: [2], node: B.id },
        { id: 'right', fn: 'multiply', args: ['x'], extraArgs: [5], node: C.id },
        { id: 'sum', fn: 'add', args: ['left', 'right'], node: B.id },
      ]);
      expect(diamond.results).toEqual({ x: 3, left: 6, right: 15, sum: 21 });

      const size = 32 * MiB;
      const pipeline = await A.page.evaluate(
        async ({ id, dagId, size, B, C }) => {
          const dag = new window.harness.Dag(dagId)
            .add({ id: 'raw', fn: 'bytes', extraArgs: [size], node: id })
            .add({ id: 'inverted', fn: 'invertBytes', args: ['raw'], node: B })
            .add({ id: 'sum', fn: 'sumBytes', args: ['inverted'], node: C });
          const handle = window.harness.nodes.get(id)?.submit(dag, { collect: 'sinks' });
          const fetched: string[] = [];
          handle?.on('task:fetched', (f) =>
            fetched.push(`${f.argId} ${f.from}->${f.to} ${f.lane}`),
          );
          const { results } = (await handle?.done) ?? {};
          return { results, fetched: fetched.sort() };
        },
        { id: A.id, dagId: `pipeline-${lane}`, size, B: B.id, C: C.id },
      );
      expect(pipeline.results).toEqual({ sum: pipelineSum(size) });
      expect(pipeline.fetched).toEqual([
        `inverted ${B.id}->${C.id} ${lane}`,
        `raw ${A.id}->${B.id} ${lane}`,
      ]);
      expect(await result(B, `pipeline-${lane}`, 'sum')).toEqual({
        ok: true,
        value: pipelineSum(size),
      });

      // The two tabs that took 32 MiB over a lane had a Worker make its buffer ready.
      const warmed = [B, C].map((t) => t.page.workers().some((w) => /warm-worker/.test(w.url())));
      expect(warmed).toEqual([shared, shared]);
      const used = await Promise.all([A, B, C].map(webRtc));
      if (shared) {
        expect(used).toEqual([0, 1, 2].map(() => ({ connections: 0, bytes: 0 })));
      } else {
        for (const u of used) expect(u.bytes).toBeGreaterThan(0);
        expect(used.reduce((s, u) => s + u.bytes, 0)).toBeGreaterThan(2 * size);
      }
      await context.close();
    });

    test(`a mixed room: two tabs of one browser and one of another (${lane} between the two)`, async ({
      browser,
      harnessPage,
    }) => {
      const x = await browserOf(browser, shared);
      const y = await browserOf(browser, shared);
      const [A, B, C] = await tabs(harnessPage, `mixed-${lane}`, [x, x, y]);
      await linkAll(A, C);
      expect(await lanesOf(A)).toEqual({ [B.id]: lane, [C.id]: 'webrtc' });
      expect(await lanesOf(C)).toEqual({ [A.id]: 'webrtc', [B.id]: 'webrtc' });
      const { results } = await run(
        A,
        `mixed-dag-${lane}`,
        [
          { id: 'raw', fn: 'bytes', extraArgs: [MiB], node: C.id },
          { id: 'inverted', fn: 'invertBytes', args: ['raw'], node: B.id },
          { id: 'sum', fn: 'sumBytes', args: ['inverted'], node: A.id },
        ],
        'sinks',
      );
      expect(results).toEqual({ sum: pipelineSum(MiB) });
      await x.close();
      await y.close();
    });

    test('closing a worker tab mid-run is detected at once and the run finishes right', async ({
      browser,
      harnessPage,
    }) => {
      const context = await browserOf(browser, shared);
      const all = await tabs(harnessPage, `close-${lane}`, [context, context, context, context]);
      const [A] = all;
      const tasks: unknown[] = [{ id: 'gate', fn: 'held', extraArgs: [0, 'go'], node: A.id }];
      for (let i = 0; i < 9; i++) {
        tasks.push({ id: `p${i}`, fn: 'bytes', extraArgs: [1000 + i], cost: { cpu: 1 } });
        tasks.push({ id: `c${i}`, fn: 'length', args: [`p${i}`, 'gate'], cost: { cpu: 1 } });
      }
      tasks.push({ id: 'sum', fn: 'add', args: Array.from({ length: 9 }, (_, i) => `c${i}`) });

      const dagId = `close-dag-${lane}`;
      await A.page.evaluate(
        ({ id, dagId, tasks }) =>
          window.harness.submit(id, dagId, tasks as TaskSpec[], { collect: 'sinks' }),
        { id: A.id, dagId, tasks },
      );
      // Every producer is done; their consumers wait for the gate.
      await expect
        .poll(() =>
          A.page.evaluate(async (dagId) => {
            const s = await window.harness.runs.get(dagId)?.handle.status();
            return Object.entries(s?.tasks ?? {}).filter(
              ([id, t]) => id.startsWith('p') && t.state === 'done',
            ).length;
          }, dagId),
        )
        .toBe(9);
      const s = await A.page.evaluate(
        (dagId) => window.harness.runs.get(dagId)?.handle.status(),
        dagId,
      );
      const holders = Object.entries(s?.tasks ?? {})
        .filter(([id]) => id.startsWith('p'))
        .map(([, t]) => t.peer);
      const victim = all.find((t) => t !== A && holders.includes(t.id)) as Tab;
      expect(victim).toBeDefined();
      await A.page.evaluate(
        ({ id, victim }) => {
          const watch = window as unknown as { leftAt: Promise<number> };
          watch.leftAt = new Promise<number>((resolve) => {
            window.harness.nodes.get(id)?.on('peer:leave', (p) => {
              if (p.id === victim) resolve(Date.now());
            });
          });
        },
        { id: A.id, victim: victim.id },
      );
      const left = A.page.evaluate(() => (window as unknown as { leftAt: Promise<number> }).leftAt);
      const closedAt = Date.now();
      await victim.page.close();
      const detectedMs = (await left) - closedAt;
      test.info().annotations.push({
        type: 'tab closed, known gone after (ms)',
        description: `${detectedMs}`,
      });
      // The liveness lock tells at once; heartbeats alone take 3.5 s.
      expect(detectedMs).toBeLessThan(shared ? 1000 : 5000);
      await A.page.evaluate(() => window.harness.open('go'));
      const expected = Array.from({ length: 9 }, (_, i) => 1000 + i).reduce((a, b) => a + b, 0);
      expect(
        await A.page.evaluate((dagId) => window.harness.runs.get(dagId)?.outcome, dagId),
      ).toMatchObject({ ok: true, results: { sum: expected } });
      await context.close();
    });
  });
}

test('with a secret, a tab of the same browser that lacks it is refused on the lane too', async ({
  browser,
  harnessPage,
}) => {
  const context = await browserOf(browser, true);
  const [a, b, rogue] = [
    await harnessPage(context),
    await harnessPage(context),
    await harnessPage(context),
  ];
  const join = (page: Page, id: string) =>
    page.evaluate(
      ({ c, id }) =>
        window.harness
          .node({ coordinator: c, room: 'lane-vault', id, secret: 'open sesame' })
          .then(() => undefined),
      { c: coordinator(), id },
    );
  await join(a, 'lane-vault-a');
  await join(b, 'lane-vault-b');
  await a.evaluate(() => window.harness.waitForPeers('lane-vault-a', 1));
  await linkAll({ page: a, id: 'lane-vault-a' });
  expect(await lanesOf({ page: a, id: 'lane-vault-a' })).toEqual({
    'lane-vault-b': 'same-browser',
  });
  // Listening before the rogue dials (awaited), so no drop can come before the listener.
  await a.evaluate(() => {
    const watch = window as unknown as { dropped: Promise<string> };
    watch.dropped = new Promise<string>((resolve) => {
      window.harness.nodes.get('lane-vault-a')?.on('dropped', (d) => resolve(d.reason));
    });
  });
  const drops = a.evaluate(() => (window as unknown as { dropped: Promise<string> }).dropped);
  // The rogue joins the broker under the room's leaked key and gets a lane: the handshake refuses.
  const outcome = await rogue.evaluate(
    (c) => window.harness.rogueDial(c, 'lane-vault-a', 'lane-vault', 'open sesame', 'same-browser'),
    coordinator(),
  );
  expect(outcome).toMatchObject({ ready: false, capabilities: null, lane: 'same-browser' });
  expect(await drops).toBe('unauthenticated');
  expect(await lanesOf({ page: a, id: 'lane-vault-a' })).toEqual({
    'lane-vault-b': 'same-browser',
  });
  await context.close();
});

test('a lane that breaks mid-run: the run finishes, and the peer is reached over WebRTC after', async ({
  browser,
  harnessPage,
}) => {
  const context = await browserOf(browser, true);
  const [A, B, C] = await tabs(harnessPage, 'broken', [context, context, context]);
  await linkAll(A);
  expect(await lanesOf(A)).toEqual({ [B.id]: 'same-browser', [C.id]: 'same-browser' });
  const done = run(A, 'broken-dag', [
    { id: 'x', fn: 'identity', extraArgs: [7], node: B.id },
    { id: 'y', fn: 'held', args: ['x'], extraArgs: ['go'], node: C.id },
  ]);
  await expect.poll(() => C.page.evaluate(() => window.harness.counts.started)).toBe(1);
  // B's MessagePorts can no longer carry data.
  await B.page.evaluate(() => {
    const post = MessagePort.prototype.postMessage;
    MessagePort.prototype.postMessage = function (this: MessagePort, ...args: unknown[]) {
      if (args[0] instanceof ArrayBuffer) throw new DOMException('lane cut', 'DataCloneError');
      return (post as (...a: unknown[]) => void).apply(this, args);
    };
  });
  await expect
    .poll(() => lanesOf(A), { timeout: 20_000 })
    .toEqual({
      [B.id]: 'webrtc',
      [C.id]: 'same-browser',
    });
  await C.page.evaluate(() => window.harness.open('go'));
  expect((await done).results).toEqual({ x: 7, y: 7 });
  const again = await run(A, 'after-break', [
    { id: 'x', fn: 'identity', extraArgs: [5], node: C.id },
    { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [3], node: B.id },
  ]);
  expect(again.results).toEqual({ x: 5, y: 15 });
  expect((await webRtc(B)).bytes).toBeGreaterThan(0);
  await linkAll(C);
  expect(await lanesOf(C)).toEqual({ [A.id]: 'same-browser', [B.id]: 'webrtc' });
  await context.close();
});

test('a reloaded tab comes back over its lane, with its id and its results', async ({
  browser,
  harnessPage,
}) => {
  const context = await browserOf(browser, true);
  const [A, B, C] = await tabs(harnessPage, 'reload-lane', [context, context, context]);
  const first = await run(A, 'reload-lane-dag', [
    { id: 'x', fn: 'bytes', extraArgs: [5000], node: B.id },
    { id: 'y', fn: 'sumBytes', args: ['x'], node: B.id },
  ]);
  // B reloads as a person would: the same tab, so the same id, a new session.
  await B.page.reload();
  await expect(B.page.locator('#status')).toHaveText('ready');
  await B.page.evaluate(
    ({ c, id }) => window.harness.node({ coordinator: c, room: 'reload-lane', id }).then(() => {}),
    { c: coordinator(), id: B.id },
  );
  await B.page.evaluate((id) => window.harness.waitForPeers(id, 2), B.id);
  // Its old lanes ended with the old page (the liveness lock); new ones replace them, not WebRTC.
  await linkAll(B, C);
  await expect.poll(() => lanesOf(B)).toEqual({ [A.id]: 'same-browser', [C.id]: 'same-browser' });
  await expect.poll(() => lanesOf(C)).toEqual({ [A.id]: 'same-browser', [B.id]: 'same-browser' });
  expect(await result(C, 'reload-lane-dag', 'y')).toEqual({ ok: true, value: first.results.y });
  expect(await result(C, 'reload-lane-dag', 'x')).toMatchObject({ ok: true });
  const again = await run(A, 'reload-lane-again', [
    { id: 'x', fn: 'identity', extraArgs: [4], node: B.id },
    { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [3], node: C.id },
  ]);
  expect(again.results).toEqual({ x: 4, y: 12 });
  for (const tab of [A, B, C]) expect(await webRtc(tab)).toEqual({ connections: 0, bytes: 0 });
  await context.close();
});
