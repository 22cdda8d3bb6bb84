import { startCoordinator } from '../../src/coordinator/coordinator.ts';

/** A real coordinator on a free port for the whole browser-test run; its URL goes to the tests. */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const coordinator = await startCoordinator({ port: 0 });
  process.env.HANDOUT_COORDINATOR = coordinator.url;
  return () => coordinator.close();
}
