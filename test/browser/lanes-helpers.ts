import type { Browser, BrowserContext, Page } from '@playwright/test';
import { type AnyTab, join, type Tab } from './room.ts';

// For lanes.spec.ts: browsers (contexts) whose pages count their own WebRTC use, and rooms of
// tabs spread over them.

declare global {
  interface Window {
    rtc: { connections: number; bytes: number };
  }
}

export function countWebRtc(): void {
  window.rtc = { connections: 0, bytes: 0 };
  // A connection counts once it is negotiated with a peer (one made and never negotiated, as a
  // library probing what the browser supports might, does not).
  const negotiate = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = function (
    this: RTCPeerConnection,
    description: RTCSessionDescriptionInit,
  ) {
    window.rtc.connections++;
    return (negotiate as (d: RTCSessionDescriptionInit) => Promise<void>).call(this, description);
  } as typeof negotiate;
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (this: RTCDataChannel, data: never) {
    window.rtc.bytes += (data as ArrayBufferView).byteLength ?? 0;
    return send.call(this, data);
  };
}

function removeSharedWorker(): void {
  Reflect.deleteProperty(window, 'SharedWorker');
}

type Open = (context?: BrowserContext) => Promise<Page>;

/** A browser context (a browser, as far as the pages can tell) whose pages count WebRTC use. */
export async function browserOf(browser: Browser, shared: boolean): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript(countWebRtc);
  if (!shared) await context.addInitScript(removeSharedWorker);
  return context;
}

/** Tabs joined to one room, one per context given (in order), waiting until all have met. */
export async function tabs<C extends BrowserContext[]>(
  open: Open,
  name: string,
  contexts: [...C],
): Promise<{ [K in keyof C]: Tab }> {
  const pages = [];
  for (const context of contexts) pages.push(await open(context));
  const ids = pages.map((_, i) => `${name}-${String.fromCharCode(65 + i)}`);
  return (await join(
    name,
    pages.map((page, i) => ({ page, id: ids[i] as string })),
  )) as { [K in keyof C]: Tab };
}

/** Links the tab to every peer: links open on first use, and a room-wide question is one. */
export async function linkAll(...all: AnyTab[]): Promise<void> {
  for (const tab of all)
    await tab.page.evaluate(
      (id) =>
        window.harness.nodes
          .get(id)
          ?.status('link-every-peer')
          .catch(() => undefined),
      tab.id,
    );
}

export const lanesOf = (tab: AnyTab) =>
  tab.page.evaluate((id) => {
    const out: Record<string, string> = {};
    for (const p of window.harness.nodes.get(id)?.peers() ?? []) out[p.id] = p.lane ?? 'none';
    return out;
  }, tab.id);
export const webRtc = (tab: AnyTab) => tab.page.evaluate(() => window.rtc);

export const MiB = 1 << 20;
/** bytes(n) -> invertBytes -> sumBytes, as the test functions compute it. */
export function pipelineSum(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + 255 - (i % 251)) % 1_000_003;
  return sum;
}
