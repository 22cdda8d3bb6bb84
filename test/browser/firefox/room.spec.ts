import { countWebRtc, lanesOf, linkAll, webRtc } from '../lanes-helpers.ts';
import { result, run, runFetching } from '../room.ts';
import { expect, type FirefoxTab, firefoxTab, join, test } from './fixtures.ts';
import { bytesSum, outcome } from './helpers.ts';

// Rooms of Firefox tabs only: two Firefox browsers (contexts), one with two tabs.

test('a room of Firefox tabs: concurrent DAGs with remote arguments, results from any tab, typed errors', async ({
  firefoxContext,
  firefoxPage,
}) => {
  const one = await firefoxContext();
  const [A, B, C] = await join('fx-room', [
    firefoxTab(await firefoxPage(one), 'fx-A'),
    firefoxTab(await firefoxPage(), 'fx-B'),
    firefoxTab(await firefoxPage(one), 'fx-C'),
  ]);
  // A and C are tabs of one Firefox: a same-browser lane between them, WebRTC to B.
  await linkAll(A);
  await linkAll(B);
  expect(await lanesOf(A)).toEqual({ [B.id]: 'webrtc', [C.id]: 'same-browser' });
  expect(await lanesOf(B)).toEqual({ [A.id]: 'webrtc', [C.id]: 'webrtc' });

  const first = [
    { id: 'src', fn: 'identity', extraArgs: [21], node: B.id },
    { id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2], node: C.id },
    { id: 'who', fn: 'tag', args: ['dbl'], node: A.id },
  ];
  const second = [
    { id: 'src', fn: 'identity', extraArgs: [5], node: C.id },
    { id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [3], node: B.id },
    { id: 'who', fn: 'tag', args: ['dbl'], node: A.id },
  ];
  const [r1, r2] = await Promise.all([run(A, 'fx-one', first), run(B, 'fx-two', second)]);
  expect(r1.results).toEqual({ src: 21, dbl: 42, who: { x: 42, on: A.id } });
  expect(r2.results).toEqual({ src: 5, dbl: 15, who: { x: 15, on: A.id } });
  expect(r1.allocations).toEqual({ src: B.id, dbl: C.id, who: A.id });

  for (const tab of [A, B, C]) {
    expect(await result(tab, 'fx-one', 'dbl')).toEqual({ ok: true, value: 42 });
    expect(await result(tab, 'fx-two', 'who')).toEqual({ ok: true, value: { x: 15, on: A.id } });
    expect(await result(tab, 'fx-nope', 'src')).toMatchObject({
      ok: false,
      code: 'unknown_dag',
      name: 'UnknownDagError',
    });
    expect(await result(tab, 'fx-one', 'nope')).toMatchObject({
      ok: false,
      code: 'data_not_found',
      name: 'DataNotFoundError',
    });
  }

  // A function that throws on a Firefox peer, and one no peer has: typed errors, no hang.
  expect(
    await outcome(B, 'fx-throws', [{ id: 'bad', fn: 'fail', node: C.id }], { maxRetries: 1 }),
  ).toMatchObject({
    ok: false,
    name: 'TaskFailedError',
    code: 'task_failed',
    taskId: 'bad',
    node: C.id,
    attempts: 2,
  });
  expect(
    await outcome(A, 'fx-unknown', [{ id: 'odd', fn: 'no-such-function', node: B.id }]),
  ).toMatchObject({ ok: false, name: 'UnknownFunctionError', code: 'unknown_function' });
});

test('tabs of one Firefox: a 32 MiB pipeline over the same-browser lane, nothing over WebRTC', async ({
  firefoxContext,
  firefoxPage,
}) => {
  const context = await firefoxContext();
  const tabs: [FirefoxTab, FirefoxTab] = [
    firefoxTab(await firefoxPage(context), 'fxl-A'),
    firefoxTab(await firefoxPage(context), 'fxl-B'),
  ];
  // Counted from outside the library, before any node exists.
  await Promise.all(tabs.map((tab) => tab.page.evaluate(countWebRtc)));
  const [A, B] = await join('fx-lane', tabs);
  const size = 32 << 20;
  const pipeline = await runFetching(A, 'fx-pipeline', [
    { id: 'raw', fn: 'bytes', extraArgs: [size], node: A.id },
    { id: 'sum', fn: 'sumBytes', args: ['raw'], node: B.id },
  ]);
  expect(pipeline).toEqual({
    results: { sum: bytesSum(size) },
    fetched: [`raw ${A.id}->${B.id} same-browser`],
  });
  expect(await Promise.all([A, B].map(webRtc))).toEqual([
    { connections: 0, bytes: 0 },
    { connections: 0, bytes: 0 },
  ]);
});
