// Finds and launches a Firefox for the Firefox project of the browser tests and the benchmarks:
// FIREFOX_PATH, then `firefox-esr` or `firefox` on PATH. Driven over WebDriver BiDi by
// puppeteer-core: Playwright's own Firefox build cannot be downloaded here, and Playwright's
// BiDi driver (channel 'moz-firefox') needs a newer Firefox than Debian's ESR (it calls
// `network.addDataCollector`, which Firefox 140 ESR does not have).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Preferences every Firefox of the tests gets. WebRTC offers loopback candidates (a machine
 * with only `lo` still connects) under their addresses, not mDNS names, and nothing phones home.
 * With names, a Chromium peer must resolve them by multicast DNS, and now and then a dial's
 * ICE failed first (Firefox logs "ICE failed, add a STUN server"; the next dial connected). A
 * page that was given a camera gets the same addresses.
 */
export const FIREFOX_PREFS = {
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
};

/** @returns {{ path: string, source: string } | undefined} */
export function findFirefox() {
  const fromEnv = process.env.FIREFOX_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`FIREFOX_PATH=${fromEnv} does not exist`);
    return { path: fromEnv, source: 'FIREFOX_PATH' };
  }
  for (const name of ['firefox-esr', 'firefox']) {
    try {
      const path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (path) return { path, source: `${name} on PATH` };
    } catch {
      // not on PATH; try the next
    }
  }
  return undefined;
}

/**
 * A headless Firefox over WebDriver BiDi (a puppeteer-core `Browser`).
 * @returns {Promise<import('puppeteer-core').Browser>}
 */
export async function launchFirefox() {
  const found = findFirefox();
  if (found === undefined)
    throw new Error(
      'No Firefox found (FIREFOX_PATH, firefox-esr or firefox on PATH). ' +
        "Install Debian's: apt-get install -y firefox-esr",
    );
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: found.path,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}
