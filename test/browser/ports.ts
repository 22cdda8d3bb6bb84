/** The browser-test harness server (test/browser/pages). */
export const HARNESS_PORT = 5199;
/** The demo, served exactly as `npm start` serves it. */
export const DEMO_PORT = 5198;
