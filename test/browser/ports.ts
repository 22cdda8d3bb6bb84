/** The browser-test harness server (test/browser/pages); another port lets two checkouts run. */
export const HARNESS_PORT = Number(process.env.HANDOUT_HARNESS_PORT ?? 5199);
/** The demo, served exactly as `npm start` serves it. */
export const DEMO_PORT = Number(process.env.HANDOUT_DEMO_PORT ?? 5198);
