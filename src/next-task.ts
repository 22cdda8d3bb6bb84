/**
 * Runs callbacks in the next task of the event loop, not on a timer. A hidden tab runs timers
 * at most once a second (once a minute after five minutes hidden), but a message a
 * MessageChannel posts to itself is an ordinary task: it runs at once, visible or not. Work
 * batched "until the next turn" uses this, so it never waits for a timer's wake-up.
 */

type Callback = () => void;

let queue: Callback[] = [];
let posted = false;
let port: MessagePort | undefined;

function channel(): MessagePort | undefined {
  if (port !== undefined || typeof MessageChannel === 'undefined') return port;
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = run;
  // In Node.js an open port keeps the process alive: this one must not.
  (port1 as { unref?: () => void }).unref?.();
  (port2 as { unref?: () => void }).unref?.();
  port = port2;
  return port;
}

function run(): void {
  posted = false;
  const callbacks = queue;
  queue = [];
  for (const callback of callbacks) {
    try {
      callback();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** Calls `callback` in the next task (after the current one and its microtasks). */
export function nextTask(callback: Callback): void {
  queue.push(callback);
  if (posted) return;
  posted = true;
  const target = channel();
  if (target !== undefined) target.postMessage(null);
  else setTimeout(run, 0); // no MessageChannel here (a very old runtime)
}
