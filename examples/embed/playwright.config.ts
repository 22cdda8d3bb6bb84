import { execFileSync } from 'node:child_process';
import { defineConfig } from '@playwright/test';

const PORT = Number(process.env.PORT ?? 4399);

/** Debian's Chromium where Playwright's own browsers are not installed. */
function chromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const executablePath = chromium();

export default defineConfig({
  testDir: 'tests',
  timeout: 60_000,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: {
      ...(executablePath === undefined ? {} : { executablePath }),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
  },
  // The production build, as users get it; `SERVE=dev` tests the dev server instead.
  webServer: {
    command: `npx vite ${process.env.SERVE === 'dev' ? '' : 'preview '}--port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
  },
});
