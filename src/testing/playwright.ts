import { type BrowserContext, test as base, expect, type Page } from '@playwright/test';
import { type Coordinator, startCoordinator } from '../coordinator/coordinator.ts';
import { TESTING_HOOK, type TestingHook } from '../runtime/testing-hook.ts';

/** What {@link HandoutFixtures.tabs} opens. */
export interface TabsOptions {
  /** The app's page that creates a node (resolved against `baseURL`). */
  readonly url: string;
  /** The room the tabs join. @default a fresh one for each call */
  readonly room?: string | undefined;
  /**
   * `true`: the tabs are pages of one browser (one context: shared storage, the same-browser
   * lane). `false`: each tab is a browser of its own (a context each), reached over WebRTC.
   * @default true
   */
  readonly sameBrowser?: boolean | undefined;
  /** Milliseconds to wait until every tab sees the others. @default 30000 */
  readonly timeout?: number | undefined;
}

export interface HandoutFixtures {
  /**
   * Opens `n` tabs of the app as peers of one room of {@link HandoutWorkerFixtures.coordinator}
   * and resolves once each sees the other `n - 1`. Every node a tab creates joins that room,
   * whatever coordinator and room the app gives (set before the app's code runs).
   */
  tabs(n: number, options: TabsOptions): Promise<Page[]>;
}

export interface HandoutWorkerFixtures {
  /** A real coordinator on a free port of 127.0.0.1, one per Playwright worker process. */
  coordinator: Coordinator;
}

/**
 * Playwright's `test` with Handout's fixtures.
 *
 * @example
 * import { expect, test } from 'handout/testing';
 * test('three tabs share a DAG', async ({ tabs }) => {
 *   const [a] = await tabs(3, { url: '/' });
 *   await a.getByRole('button', { name: 'Run' }).click();
 *   await expect(a.getByTestId('result')).toHaveText('14');
 * });
 */
export const test = base.extend<HandoutFixtures, HandoutWorkerFixtures>({
  coordinator: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies so.
    async ({}, use) => {
      const coordinator = await startCoordinator({ port: 0 });
      await use(coordinator);
      await coordinator.close();
    },
    { scope: 'worker' },
  ],
  tabs: async ({ browser, coordinator }, use) => {
    const contexts: BrowserContext[] = [];
    const newContext = async () => {
      const context = await browser.newContext();
      contexts.push(context);
      return context;
    };
    await use(async (n, options) => {
      if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`tabs: n must be >= 1, got ${n}`);
      const room = options.room ?? `room-${crypto.randomUUID()}`;
      const shared = options.sameBrowser === false ? undefined : await newContext();
      const pages: Page[] = [];
      const errors = new Map<Page, string[]>();
      for (let i = 0; i < n; i++) {
        const page = await (shared ?? (await newContext())).newPage();
        const seen: string[] = [];
        errors.set(page, seen);
        page.on('pageerror', (error) => seen.push(error.message));
        page.on('console', (m) => m.type() === 'error' && seen.push(m.text()));
        await page.addInitScript(
          ({ key, coordinator, room }) => {
            const hook: TestingHook = { coordinator, room, nodes: [] };
            (globalThis as unknown as Record<string, TestingHook>)[key] = hook;
          },
          { key: TESTING_HOOK, coordinator: coordinator.url, room },
        );
        await page.goto(options.url);
        pages.push(page);
      }
      await Promise.all(
        pages.map((page, i) =>
          waitForPeers(page, n - 1, options.timeout).catch((error: unknown) => {
            // Say why: most often the app failed to make its node (its page errors tell).
            const seen = errors.get(page)?.join('; ') || 'none';
            throw new Error(
              `tabs: tab ${i + 1} of ${n} did not see ${n - 1} peers in room ${room}; its page errors: ${seen}`,
              { cause: error },
            );
          }),
        ),
      );
      return pages;
    });
    for (const context of contexts) await context.close();
  },
});

export { expect };

/** Resolves once a node of the tab sees at least `count` peers; their ids. */
export async function waitForPeers(page: Page, count: number, timeout = 30_000): Promise<string[]> {
  const ids = await page.waitForFunction(
    ({ key, count }) => {
      const hook = (globalThis as unknown as Record<string, TestingHook | undefined>)[key];
      const peers = hook?.nodes.find((node) => node.peers().length >= count)?.peers();
      return peers?.map((p) => p.id).sort();
    },
    { key: TESTING_HOOK, count },
    // Polled, not on animation frames: those stop in a tab that is hidden.
    { timeout, polling: 100 },
  );
  return (await ids.jsonValue()) as string[];
}

/** The id of the tab's node (its first, if it made several). */
export function nodeId(page: Page): Promise<string> {
  return page.evaluate((key) => {
    const node = (globalThis as unknown as Record<string, TestingHook | undefined>)[key]?.nodes[0];
    if (node === undefined) throw new Error('handout/testing: this tab has not created a node');
    return node.id;
  }, TESTING_HOOK);
}

/** The ids a tab's node keeps in its own store for `dagId` (what it produced or fetched). */
export function storedKeys(page: Page, dagId: string): Promise<string[]> {
  return page.evaluate(
    async ({ key, dagId }) => {
      const node = (globalThis as unknown as Record<string, TestingHook | undefined>)[key]
        ?.nodes[0];
      if (node === undefined) throw new Error('handout/testing: this tab has not created a node');
      return (await node.store.keys(dagId)).sort();
    },
    { key: TESTING_HOOK, dagId },
  );
}

/**
 * The pipe that reaches each peer of the tab's node, by peer id: `same-browser` or `webrtc`, or
 * `none` while no link to it is open (links open on first use and close when idle).
 */
export function lanes(page: Page): Promise<Record<string, string>> {
  return page.evaluate((key) => {
    const node = (globalThis as unknown as Record<string, TestingHook | undefined>)[key]?.nodes[0];
    if (node === undefined) throw new Error('handout/testing: this tab has not created a node');
    return Object.fromEntries(node.peers().map((p) => [p.id, p.lane ?? 'none']));
  }, TESTING_HOOK);
}
