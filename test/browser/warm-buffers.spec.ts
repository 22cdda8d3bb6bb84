import { expect, test } from './fixtures.ts';
import { browserOf, lanesOf, linkAll, MiB, pipelineSum, tabs } from './lanes-helpers.ts';
import { run } from './room.ts';

/**
 * A tab that takes a large value over a lane has a helper Worker make its buffer ready
 * (`src/net/warm-buffers.ts`). Where that Worker cannot load (a page's CSP, a script the app's
 * build left out), the value still arrives whole, and the Worker is not asked for again.
 */
test('a tab whose warm-buffer Worker cannot load still takes large values over its lane', async ({
  browser,
  harnessPage,
  allowConsoleErrors,
}) => {
  allowConsoleErrors(/Failed to load resource|net::ERR_FAILED/);
  const context = await browserOf(browser, true);
  let refused = 0;
  await context.route(/warm-worker/, (route) => {
    refused++;
    return route.abort();
  });
  const [A, B] = await tabs(harnessPage, 'warm-refused', [context, context]);
  await linkAll(A, B);
  expect(Object.values(await lanesOf(A))).toEqual(['same-browser']);

  const size = 16 * MiB;
  const pipeline = (dagId: string) =>
    run(
      A,
      dagId,
      [
        { id: 'raw', fn: 'bytes', extraArgs: [size], node: A.id },
        { id: 'inverted', fn: 'invertBytes', args: ['raw'], node: B.id },
        { id: 'sum', fn: 'sumBytes', args: ['inverted'], node: A.id },
      ],
      'sinks',
    );
  const first = await pipeline('warm-refused-1');
  expect(first.results.sum).toBe(pipelineSum(size));
  expect(refused).toBeGreaterThan(0); // both tabs asked for the Worker, and went without
  const asked = refused;
  const second = await pipeline('warm-refused-2');
  expect(second.results.sum).toBe(pipelineSum(size));
  expect(refused).toBe(asked); // not asked again
  for (const tab of [A, B])
    expect(tab.page.workers().filter((w) => /warm-worker/.test(w.url()))).toEqual([]);
  await context.close();
});
