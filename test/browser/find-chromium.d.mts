/** Flags that work on these machines (see ARCHITECTURE.md). */
export declare const CHROMIUM_ARGS: string[];
/** CHROMIUM_PATH, then `chromium` on PATH, then Playwright's own (path undefined). */
export declare function findChromium(): { path: string | undefined; source: string } | undefined;
