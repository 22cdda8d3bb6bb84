// Pre-flight for `npm run test:browser`: make sure a Chromium and a Firefox exist before Playwright starts.
import { spawnSync } from 'node:child_process';
import { findChromium } from './find-chromium.mjs';
import { findFirefox } from './find-firefox.mjs';

let found = findChromium();
if (found === undefined) {
  console.log(
    "No Chromium found (CHROMIUM_PATH, chromium on PATH, Playwright's own); trying `npx playwright install chromium`...",
  );
  const install = spawnSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
  found = install.status === 0 ? findChromium() : undefined;
  if (found === undefined) {
    console.error(
      [
        'Could not get a Chromium for the browser tests.',
        'Install one and try again, e.g. on Debian/Ubuntu: apt-get install -y chromium',
        'or point CHROMIUM_PATH at a Chromium or Chrome binary.',
      ].join('\n'),
    );
    process.exit(1);
  }
}
console.log(`Browser tests use ${found.path ?? "Playwright's Chromium"} (${found.source}).`);

// The hidden-tab tests run Chromium headful under a virtual X display (see real-window.ts).
const xvfb = spawnSync('which', ['xvfb-run'], { encoding: 'utf8' });
if (xvfb.status !== 0) {
  console.error(
    [
      'The hidden-tab browser tests need xvfb-run (a virtual X display for a headful Chromium).',
      'Install it and try again, e.g. on Debian/Ubuntu: apt-get install -y xvfb xauth',
    ].join('\n'),
  );
  process.exit(1);
}

// The Firefox project drives Debian's firefox-esr over WebDriver BiDi (find-firefox.mjs).
const firefox = findFirefox();
if (firefox === undefined) {
  console.error(
    [
      'The Firefox browser tests need a Firefox (FIREFOX_PATH, firefox-esr or firefox on PATH).',
      'Install one and try again, e.g. on Debian: apt-get install -y firefox-esr',
    ].join('\n'),
  );
  process.exit(1);
}
console.log(`Firefox tests use ${firefox.path} (${firefox.source}).`);
