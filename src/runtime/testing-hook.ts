import type { HandoutNode } from './node-api.ts';

/**
 * Where `handout/testing`'s `tabs` fixture tells a page which room to join: it sets this global
 * in an init script, before the app's code runs. Every node the page creates then joins that
 * coordinator and room, whatever the app's own settings, and is listed in `nodes`, so a test can
 * wait until the tabs see each other and read what they store. Apps never set it.
 */
export const TESTING_HOOK = '__HANDOUT_TESTING__';

export interface TestingHook {
  readonly coordinator: string;
  readonly room: string;
  readonly nodes: HandoutNode[];
}

/** The hook when a test set one. */
export function testingHook(): TestingHook | undefined {
  return (globalThis as unknown as Record<string, TestingHook | undefined>)[TESTING_HOOK];
}
