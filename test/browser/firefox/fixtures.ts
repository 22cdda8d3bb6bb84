import type { Page } from '@playwright/test';
import type {
  Browser as Firefox,
  BrowserContext as FirefoxContext,
  Page as FirefoxPage,
} from 'puppeteer-core';
import { launchFirefox } from '../find-firefox.mjs';
import { test as base, expect } from '../fixtures.ts';
import { HARNESS_PORT } from '../ports.ts';

/**
 * The Firefox project's fixtures: Debian's Firefox driven over WebDriver BiDi (puppeteer-core),
 * beside the Chromium that Playwright drives. A Firefox browser context is a browser of its own
 * (its own storage, no same-browser lane to another context), as a Playwright context is.
 */

/** A Firefox tab in a room: `page` evaluates as a Playwright page does, so room.ts's helpers fit. */
export interface FirefoxTab {
  page: Pick<Page, 'evaluate'>;
  id: string;
  tab: FirefoxPage;
}

interface WorkerFixtures {
  /** One Firefox per Playwright worker: a launch costs seconds. */
  firefox: Firefox;
}

interface Fixtures {
  /** A new Firefox browser context, closed after the test. */
  firefoxContext(): Promise<FirefoxContext>;
  /** Opens the harness page in a Firefox context (a new one unless given) and waits until ready. */
  firefoxPage(context?: FirefoxContext): Promise<FirefoxPage>;
}

/** The Playwright-shaped `evaluate` of a Firefox page (one argument, as Playwright takes it). */
export const evaluator = (page: FirefoxPage): Pick<Page, 'evaluate'> => ({
  evaluate: ((fn: never, arg: never) => page.evaluate(fn, arg)) as Page['evaluate'],
});

export const test = base.extend<Fixtures, WorkerFixtures>({
  firefox: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright fixtures take their dependencies so.
    async ({}, use) => {
      const firefox = await launchFirefox();
      await use(firefox);
      await firefox.close();
    },
    { scope: 'worker', timeout: 90_000 },
  ],
  firefoxContext: async ({ firefox }, use) => {
    const contexts: FirefoxContext[] = [];
    await use(async () => {
      const context = await firefox.createBrowserContext();
      contexts.push(context);
      return context;
    });
    for (const context of contexts) await context.close().catch(() => undefined);
  },
  // Depends on allowConsoleErrors, so the allow-list is still there when the pages are checked.
  firefoxPage: async ({ firefoxContext, allowConsoleErrors: _ }, use) => {
    const errors: string[] = [];
    await use(async (context) => {
      const page = await (context ?? (await firefoxContext())).newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(msg.text());
      });
      page.on('pageerror', (error) => errors.push(String(error)));
      await page.goto(`http://127.0.0.1:${HARNESS_PORT}/index.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      return page;
    });
    expect(errors, 'console errors in the Firefox pages').toEqual([]);
  },
});

/** A Firefox page as a tab with the given id (its node made by `join`). */
export const firefoxTab = (tab: FirefoxPage, id: string): FirefoxTab => ({
  page: evaluator(tab),
  id,
  tab,
});

export { join } from '../room.ts';
export { expect };
