/** Web Locks, where the platform has them (browsers, workers); undefined in Node.js. */
export function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/**
 * Takes a Web Lock and holds it until the returned function is called. With `ifAvailable`,
 * undefined at once when someone else holds it; otherwise it waits its turn.
 */
export function holdLock(
  locks: LockManager,
  name: string,
  ifAvailable = false,
): Promise<(() => void) | undefined> {
  return new Promise((resolve) => {
    void locks.request(name, { ifAvailable }, (held) => {
      if (held === null) {
        resolve(undefined);
        return undefined;
      }
      return new Promise<void>((release) => resolve(() => release()));
    });
  });
}
