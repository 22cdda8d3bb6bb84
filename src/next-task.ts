/**
 * Runs callbacks in the next task of the event loop, not on a timer. A hidden tab runs timers
 * at most once a second (once a minute after five minutes hidden), but a message a
 * MessageChannel posts to itself is an ordinary task: it runs at once, visible or not. Work
 * batched "until the next turn" uses this, so it never waits for a timer's wake-up. Node.js
 * has `setImmediate` for this, which also keeps the process alive while work is queued (an
 * unref'd port would let a script awaiting a run exit with the run unfinished).
 */

type Callback = () => void;

let queue: Callback[] = [];
let posted = false;
let port: MessagePort | undefined;
const immediate = (globalThis as { setImmediate?: (callback: Callback) => unknown }).setImmediate;

function channel(): MessagePort | undefined {
  if (port !== undefined || typeof MessageChannel === 'undefined') return port;
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = run;
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
  if (immediate !== undefined) {
    immediate(run);
    return;
  }
  const target = channel();
  if (target !== undefined) target.postMessage(null);
  else setTimeout(run, 0); // no MessageChannel here (a very old runtime)
}
