// A real browser window, as a person has one: Debian's Chromium started headful under Xvfb,
// without Playwright and its switches that keep every page visible and unthrottled
// (--disable-background-timer-throttling, --disable-renderer-backgrounding,
// --disable-backgrounding-occluded-windows). Tabs are added with the DevTools protocol's
// Target.createTarget, in the background when asked (they then read visibilityState 'hidden'
// and get a hidden tab's timers), and driven with Runtime.evaluate over the same socket.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CHROMIUM_ARGS, findChromium } from './find-chromium.mjs';

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
}

/** One tab of the window. */
export interface RealTab {
  readonly targetId: string;
  /** Runs `fn(arg)` in the tab and resolves with what it returns (or rejects with its error). */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<Awaited<R>>;
  /** Moves and sizes the tab's window (windows that overlap hide each other's tabs). */
  place(left: number, top: number, width: number, height: number): Promise<void>;
  /** Brings the tab to the front (the others of the window become hidden). */
  activate(): Promise<void>;
  close(): Promise<void>;
}

export class RealWindow {
  #next = 1;
  readonly #pending = new Map<number, Pending>();
  /** One-shot waits for DevTools events, by `sessionId method`. */
  readonly #waits = new Map<string, (params: Record<string, unknown>) => void>();

  private constructor(
    readonly process: ChildProcess,
    readonly socket: WebSocket,
    readonly dataDir: string,
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        method?: string;
        sessionId?: string;
        params?: Record<string, unknown>;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (message.id === undefined) {
        const key = `${message.sessionId ?? ''} ${message.method ?? ''}`;
        const wait = this.#waits.get(key);
        this.#waits.delete(key);
        wait?.(message.params ?? {});
        return;
      }
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error) pending?.reject(new Error(message.error.message));
      else pending?.resolve(message.result ?? {});
    });
    socket.on('close', () => {
      for (const p of this.#pending.values()) p.reject(new Error('the browser went away'));
      this.#pending.clear();
    });
  }

  /** Starts Chromium in a virtual X display and connects to it. `flags` are added to its own. */
  static async launch(flags: string[] = []): Promise<RealWindow> {
    const chromium = findChromium()?.path ?? 'chromium';
    const dataDir = mkdtempSync(join(tmpdir(), 'handout-window-'));
    const child = spawn(
      'xvfb-run',
      [
        '-a',
        '-s',
        '-screen 0 1600x1000x24',
        chromium,
        ...CHROMIUM_ARGS,
        '--remote-debugging-port=0',
        `--user-data-dir=${dataDir}`,
        '--no-first-run',
        '--no-default-browser-check',
        '--window-position=0,0',
        '--window-size=1200,900',
        ...flags,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`Chromium did not start: ${err}`)), 30_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
        const found = err.match(/DevTools listening on (ws:\/\/\S+)/);
        if (found) {
          clearTimeout(timer);
          resolve(found[1] as string);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`xvfb-run exited ${code}: ${err}`));
      });
    });
    const socket = new WebSocket(endpoint, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new RealWindow(child, socket, dataDir);
  }

  /** Sends a DevTools command, to the browser or to a tab's session. */
  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Resolves with the next event `method` of a tab's session. */
  next(sessionId: string, method: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.#waits.set(`${sessionId} ${method}`, resolve));
  }

  /**
   * Opens `url` in a new tab of the window, in front or in the background (hidden), or in a
   * window of its own, and resolves once it has loaded.
   */
  async open(
    url: string,
    options: { background?: boolean; newWindow?: boolean } = {},
  ): Promise<RealTab> {
    const { targetId } = (await this.send('Target.createTarget', {
      url: 'about:blank',
      background: options.background === true,
      newWindow: options.newWindow === true,
    })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', {
      targetId,
      flatten: true,
    })) as { sessionId: string };
    await this.send('Page.enable', {}, sessionId);
    const loaded = this.next(sessionId, 'Page.loadEventFired');
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    const tab: RealTab = {
      targetId,
      evaluate: async (fn, arg) => {
        const { result, exceptionDetails } = (await this.send(
          'Runtime.evaluate',
          {
            // esbuild (tsx) may wrap named functions in `__name(...)`: give the page one.
            expression: `(() => { const __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg)}); })()`,
            awaitPromise: true,
            returnByValue: true,
          },
          sessionId,
        )) as {
          result: { value?: unknown };
          exceptionDetails?: { exception?: { description?: string }; text?: string };
        };
        if (exceptionDetails)
          throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
        return result.value as never;
      },
      place: async (left, top, width, height) => {
        const { windowId } = (await this.send('Browser.getWindowForTarget', { targetId })) as {
          windowId: number;
        };
        await this.send('Browser.setWindowBounds', {
          windowId,
          bounds: { left, top, width, height, windowState: 'normal' },
        });
      },
      activate: async () => {
        await this.send('Target.activateTarget', { targetId });
      },
      close: async () => {
        await this.send('Target.closeTarget', { targetId });
      },
    };
    return tab;
  }

  /** Closes the browser; xvfb-run ends once Chromium has (or is made to after 10 s). */
  async close(): Promise<void> {
    const exited =
      this.process.exitCode === null
        ? new Promise((resolve) => this.process.once('exit', resolve))
        : Promise.resolve();
    await this.send('Browser.close').catch(() => undefined);
    this.socket.close();
    const forced = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(forced);
    rmSync(this.dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
