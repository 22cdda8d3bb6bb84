/**
 * `handout/testing`: for the tests of an app that embeds Handout. Playwright fixtures (`test`
 * with a real `coordinator` per worker and `tabs(n, { url })`, which opens n tabs of the app as
 * peers of one room), small helpers, and the in-memory swarm of `handout/testing/memory` for
 * unit tests. Runs in Node.js, beside `@playwright/test` and the coordinator's packages.
 */

export type { Coordinator } from '../coordinator/coordinator.ts';
export * from './memory.ts';
export type { HandoutFixtures, HandoutWorkerFixtures, TabsOptions } from './playwright.ts';
export { expect, lanes, nodeId, storedKeys, test, waitForPeers } from './playwright.ts';
