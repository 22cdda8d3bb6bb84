// Finds a Chromium for Playwright: CHROMIUM_PATH, then `chromium` on PATH, then Playwright's
// own download. Shared by the Playwright config, its pre-flight check and the benchmarks.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

/** Flags that work on these machines (see ARCHITECTURE.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** @returns {{ path: string | undefined, source: string } | undefined} */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return { path: fromEnv, source: 'CHROMIUM_PATH' };
  }
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (path) return { path, source: `${name} on PATH` };
    } catch {
      // not on PATH; try the next
    }
  }
  const own = chromium.executablePath();
  if (own && existsSync(own)) return { path: undefined, source: "Playwright's own Chromium" };
  return undefined;
}
