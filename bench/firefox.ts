import type { Page } from '@playwright/test';
import type { Page as FirefoxPage } from 'puppeteer-core';
import { findFirefox, launchFirefox } from '../test/browser/find-firefox.mjs';
import type { BenchConfig, Scenario } from './stats.ts';
import { transferScenarios } from './transfer.ts';

/**
 * `transfer` with Firefox (Debian's firefox-esr over WebDriver BiDi): between two Firefox
 * browsers, and between Firefox and Chromium both ways, beside the Chromium-to-Chromium rows of
 * the same run. Each pair gets fresh tabs (a tab holds one raw channel).
 */
export async function firefoxScenarios(
  pageUrl: string,
  chromiumPage: () => Promise<Page>,
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  if (findFirefox() === undefined) {
    console.log('firefox: skipped, no Firefox here (apt-get install -y firefox-esr)');
    return [];
  }
  const firefox = await launchFirefox();
  const firefoxPage = async (): Promise<Pick<Page, 'evaluate'>> => {
    const page: FirefoxPage = await (await firefox.createBrowserContext()).newPage();
    page.on('pageerror', (e) => console.error(`Firefox page error: ${String(e)}`));
    await page.goto(pageUrl);
    await page.waitForFunction(
      () => document.getElementById('status')?.textContent === 'ready' && 'transfer' in window,
    );
    return {
      evaluate: ((fn: never, arg: never) => page.evaluate(fn, arg)) as Page['evaluate'],
    };
  };
  try {
    console.log(`Firefox ${await firefox.version()} (WebDriver BiDi)`);
    return [
      ...(await transferScenarios(await firefoxPage(), await firefoxPage(), coordinator, config, {
        name: 'transfer-firefox',
        between: 'Firefox tab to Firefox tab (two browsers)',
      })),
      ...(await transferScenarios(await firefoxPage(), await chromiumPage(), coordinator, config, {
        name: 'transfer-firefox-chromium',
        between: 'Firefox tab to Chromium tab',
      })),
      ...(await transferScenarios(await chromiumPage(), await firefoxPage(), coordinator, config, {
        name: 'transfer-chromium-firefox',
        between: 'Chromium tab to Firefox tab',
      })),
    ];
  } finally {
    await firefox.close();
  }
}
