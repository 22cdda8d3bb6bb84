import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, findChromium } from './test/browser/find-chromium.mjs';
import { DEMO_PORT, HARNESS_PORT } from './test/browser/ports.ts';

const PORT = HARNESS_PORT;
const executablePath = findChromium()?.path;

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '**/*.spec.ts',
  timeout: 60_000,
  forbidOnly: !!process.env.CI,
  fullyParallel: false,
  // Two lanes: the hidden-tab test (its tabs mostly wait five and a half minutes) beside all the
  // others, which go one at a time, Firefox's among them.
  workers: 2,
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/browser.json' }],
    ['./test/browser/no-skips-reporter.ts'],
  ],
  outputDir: 'test-results/browser',
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    launchOptions: {
      ...(executablePath === undefined ? {} : { executablePath }),
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  projects: [
    // Its own headful Chromium in a virtual window (test/browser/real-window.ts).
    { name: 'hidden', testMatch: /browser\/hidden\.spec\.ts$/, workers: 1 },
    {
      // Every other test, one at a time: Chromium's and Firefox's (Debian's firefox-esr over
      // WebDriver BiDi, alone and beside Chromium in one room: test/browser/firefox/), which so
      // never share the two cores with a Chromium test's tabs.
      name: 'browsers',
      testIgnore: /browser\/hidden\.spec\.ts$/,
      workers: 1,
    },
  ],
  webServer: [
    {
      command: `npx vite --config test/browser/vite.config.ts --port ${PORT} --strictPort --host 127.0.0.1`,
      url: `http://127.0.0.1:${PORT}/index.html`,
      reuseExistingServer: !process.env.CI,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // The demo exactly as `npm start` serves it.
      command: `npx vite --config vite.config.ts --port ${DEMO_PORT} --strictPort`,
      url: `http://127.0.0.1:${DEMO_PORT}/`,
      reuseExistingServer: !process.env.CI,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
