import type { Browser } from 'puppeteer-core';

/** Preferences every Firefox of the tests gets. */
export declare const FIREFOX_PREFS: Record<string, boolean>;
/** FIREFOX_PATH, then `firefox-esr` or `firefox` on PATH. */
export declare function findFirefox(): { path: string; source: string } | undefined;
/** A headless Firefox over WebDriver BiDi. */
export declare function launchFirefox(): Promise<Browser>;
