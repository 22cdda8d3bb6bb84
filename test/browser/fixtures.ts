import type { BrowserContext, Page } from '@playwright/test';
import { expect, test as handout } from '../../src/testing/playwright.ts';

interface WorkerFixtures {
  /** handout/testing's coordinator, its URL where the helpers read it (`coordinator()`). */
  coordinatorUrl: string;
}

interface Fixtures {
  /** Opens the harness page in a context (a new one unless given) and waits until it is ready. */
  harnessPage(context?: BrowserContext): Promise<Page>;
  /** Lets console errors matching `pattern` through (ones the browser itself logs). */
  allowConsoleErrors(pattern: RegExp): void;
}

/**
 * Every page a test opens through `harnessPage` is watched: a console error or an uncaught
 * exception in any of them fails the test.
 */
const allowed: RegExp[] = [];

/**
 * handout/testing's `test` (a real coordinator per worker, `tabs`), with the harness page of
 * these tests on top.
 */
export const test = handout.extend<Fixtures, WorkerFixtures>({
  coordinatorUrl: [
    async ({ coordinator }, use) => {
      process.env.HANDOUT_COORDINATOR = coordinator.url;
      await use(coordinator.url);
    },
    { scope: 'worker', auto: true },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies so.
  allowConsoleErrors: async ({}, use) => {
    await use((pattern) => allowed.push(pattern));
    allowed.length = 0;
  },
  // Depends on allowConsoleErrors, so the allow-list is still there when the pages are checked.
  harnessPage: async ({ browser, allowConsoleErrors: _ }, use) => {
    const errors: string[] = [];
    const contexts: BrowserContext[] = [];
    await use(async (context) => {
      let ctx = context;
      if (ctx === undefined) {
        ctx = await browser.newContext();
        contexts.push(ctx);
      }
      const page = await ctx.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto('/index.html');
      await expect(page.locator('#status')).toHaveText('ready');
      return page;
    });
    for (const ctx of contexts) await ctx.close();
    const unexpected = errors.filter((e) => !allowed.some((pattern) => pattern.test(e)));
    expect(unexpected, 'console errors in the pages').toEqual([]);
  },
});

export { expect };
