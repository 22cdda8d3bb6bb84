import { type BrowserContext, test as base, expect, type Page } from '@playwright/test';

interface Fixtures {
  /** Opens the harness page in a context (a new one unless given) and waits until it is ready. */
  harnessPage(context?: BrowserContext): Promise<Page>;
}

/**
 * Every page a test opens through `harnessPage` is watched: a console error or an uncaught
 * exception in any of them fails the test.
 */
export const test = base.extend<Fixtures>({
  harnessPage: async ({ browser }, use) => {
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
    expect(errors, 'console errors in the pages').toEqual([]);
  },
});

export { expect };
