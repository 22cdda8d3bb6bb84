import type { Page } from '@playwright/test';
import { startCoordinator } from '../../src/coordinator/coordinator.ts';
import { expect, test } from './fixtures.ts';

const coordinatorUrl = () => {
  const url = process.env.HANDOUT_COORDINATOR;
  if (!url) throw new Error('the coordinator fixture (handout/testing) has not started');
  return url;
};

interface JoinOptions {
  room: string;
  id?: string;
  secret?: string;
  capabilities?: Record<string, number>;
  coordinator?: string;
}

/** Creates a swarm node in the page; resolves with its id. */
function join(page: Page, options: JoinOptions): Promise<string> {
  return page.evaluate(
    async ({ coordinator, ...rest }) => {
      const node = await window.harness.node({ coordinator, ...rest });
      return node.id;
    },
    { coordinator: coordinatorUrl(), ...options },
  );
}

const peersOf = (page: Page, id: string, count: number) =>
  page.evaluate(({ id, count }) => window.harness.waitForPeers(id, count), { id, count });

test.describe('the swarm over a real coordinator and WebRTC', () => {
  test('tabs in separate contexts and in one context meet; another room stays apart', async ({
    harnessPage,
    browser,
  }) => {
    const shared = await browser.newContext();
    const pages = [
      await harnessPage(),
      await harnessPage(),
      await harnessPage(),
      await harnessPage(shared),
      await harnessPage(shared),
    ];
    const ids = ['sep-1', 'sep-2', 'sep-3', 'same-1', 'same-2'];
    await Promise.all(
      pages.map((page, i) =>
        join(page, { room: 'meet', id: ids[i] as string, capabilities: { gpu: i } }),
      ),
    );
    const loner = await harnessPage();
    await join(loner, { room: 'elsewhere', id: 'loner' });

    for (const [i, page] of pages.entries()) {
      const seen = await peersOf(page, ids[i] as string, 4);
      expect(seen).toEqual(ids.filter((_, j) => j !== i).sort());
    }
    // Resources were exchanged: detected cpu, overridden gpu.
    const caps = await pages[0]?.evaluate(
      () =>
        window.harness.nodes
          .get('sep-1')
          ?.peers()
          .find((p) => p.id === 'same-2')?.capabilities,
    );
    expect(caps).toMatchObject({ gpu: 4 });
    expect(caps?.cpu).toBeGreaterThan(0);
    expect(await loner.evaluate(() => window.harness.nodes.get('loner')?.peers().length)).toBe(0);
    for (const [i, page] of pages.entries()) {
      const listed = await page.evaluate(
        (id) =>
          window.harness.nodes
            .get(id)
            ?.peers()
            .map((p) => p.id),
        ids[i] as string,
      );
      expect(listed).not.toContain('loner');
    }
    await shared.close();
  });

  test('a 32 MiB ArrayBuffer crosses between two tabs intact, both ways', async ({
    harnessPage,
  }) => {
    const [a, b] = [await harnessPage(), await harnessPage()];
    const coordinator = coordinatorUrl();
    const open = (page: Page) =>
      page.evaluate((c) => window.harness.transport({ coordinator: c, room: 'bulk' }), coordinator);
    const [ida, idb] = [await open(a), await open(b)];
    await b.evaluate((id) => {
      const { rpc } = window.harness.transports.get(id) ?? {};
      rpc?.handle('checksum', (body) => {
        const { buffer } = body as { buffer: ArrayBuffer };
        return {
          bytes: buffer.byteLength,
          sum: window.harness.checksum(buffer),
          isBuffer: buffer instanceof ArrayBuffer,
        };
      });
      rpc?.handle('make', (bytes) => window.harness.makeBuffer(bytes as number));
    }, idb);
    await a.evaluate(({ ida, idb }) => window.harness.waitForPeers(ida, 1).then(() => idb), {
      ida,
      idb,
    });
    const result = await a.evaluate(
      async ({ ida, idb }) => {
        const { rpc } = window.harness.transports.get(ida) ?? {};
        const { buffer, sum } = window.harness.makeBuffer(32 << 20);
        const there = (await rpc?.request(idb, 'checksum', { buffer })) as {
          bytes: number;
          sum: number;
          isBuffer: boolean;
        };
        const back = (await rpc?.request(idb, 'make', 32 << 20)) as {
          buffer: ArrayBuffer;
          sum: number;
        };
        return {
          sent: sum,
          there,
          back: {
            bytes: back.buffer.byteLength,
            sum: window.harness.checksum(back.buffer),
            claimed: back.sum,
          },
        };
      },
      { ida, idb },
    );
    expect(result.there).toEqual({ bytes: 32 << 20, sum: result.sent, isBuffer: true });
    expect(result.back).toEqual({
      bytes: 32 << 20,
      sum: result.back.claimed,
      claimed: result.sent,
    });
  });

  test('a closed tab is reported gone within 5 s; so is a hung one that never says goodbye', async ({
    harnessPage,
  }) => {
    const watcher = await harnessPage();
    await join(watcher, { room: 'leaving', id: 'watcher' });
    const closer = await harnessPage();
    await join(closer, { room: 'leaving', id: 'closer' });
    const hung = await harnessPage();
    await join(hung, { room: 'leaving', id: 'hung' });
    await peersOf(watcher, 'watcher', 2);
    // Links to both (a room-wide question opens them): a hung peer is found by its link's
    // heartbeats; one without a link has only the coordinator's word.
    await watcher.evaluate(() =>
      window.harness.nodes
        .get('watcher')
        ?.status('link-every-peer')
        .catch(() => undefined),
    );
    const leaveTimes = () =>
      watcher.evaluate(() => {
        const w = window as unknown as { leaves?: Record<string, number> };
        if (w.leaves === undefined) {
          w.leaves = {};
          window.harness.nodes.get('watcher')?.on('peer:leave', (p) => {
            (w.leaves as Record<string, number>)[p.id] = Date.now();
          });
        }
        return w.leaves;
      });
    await leaveTimes();

    const closedAt = Date.now();
    await closer.close();
    await expect.poll(async () => (await leaveTimes()).closer, { timeout: 8000 }).toBeDefined();
    expect(((await leaveTimes()).closer as number) - closedAt).toBeLessThan(5000);

    // Hang the page: its sockets and channels stay open but nothing is sent, as with a tab
    // that froze or crashed without closing them. Only heartbeats can tell.
    const hungAt = Date.now();
    const hang = hung.evaluate(() => {
      const until = Date.now() + 7000;
      while (Date.now() < until) {
        // busy: no timer, no message handler runs in this tab
      }
    });
    await expect.poll(async () => (await leaveTimes()).hung, { timeout: 8000 }).toBeDefined();
    const hungMs = ((await leaveTimes()).hung as number) - hungAt;
    test
      .info()
      .annotations.push({ type: 'hung peer found gone after (ms)', description: `${hungMs}` });
    expect(hungMs).toBeLessThan(5000);
    await hang;
  });

  test('a peer with the wrong secret is refused and learns nothing', async ({ harnessPage }) => {
    const [a, b, rogue] = [await harnessPage(), await harnessPage(), await harnessPage()];
    await join(a, { room: 'vault', id: 'vault-a', secret: 'open sesame' });
    await join(b, { room: 'vault', id: 'vault-b', secret: 'open sesame' });
    await join(rogue, { room: 'vault', id: 'rogue', secret: 'a guess' });
    expect(await peersOf(a, 'vault-a', 1)).toEqual(['vault-b']);
    // Discovery: the rogue is in another room as far as the coordinator knows, and sees nobody.
    expect(await rogue.evaluate(() => window.harness.nodes.get('rogue')?.peers())).toEqual([]);
    // Even with the room's coordinator key leaked, dialling a member directly fails the proof.
    const drops = await armed(a, 'vault-a', 'dropped');
    const outcome = await rogue.evaluate(
      (c) => window.harness.rogueDial(c, 'vault-a', 'vault', 'open sesame'),
      coordinatorUrl(),
    );
    expect(outcome).toMatchObject({ ready: false, capabilities: null });
    expect(outcome.closed).not.toContain('still open');
    expect(((await drops()) as { reason: string }).reason).toBe('unauthenticated');
    expect(
      await a.evaluate(() =>
        window.harness.nodes
          .get('vault-a')
          ?.peers()
          .map((p) => p.id),
      ),
    ).toEqual(['vault-b']);
  });

  test('a reloaded tab keeps its id and rejoins', async ({ harnessPage }) => {
    const [a, b] = [await harnessPage(), await harnessPage()];
    await join(a, { room: 'reload', id: 'steady' });
    const first = await join(b, { room: 'reload' }); // id from sessionStorage
    await peersOf(a, 'steady', 1);
    await b.reload();
    await expect(b.locator('#status')).toHaveText('ready');
    const second = await join(b, { room: 'reload' });
    expect(second).toBe(first);
    // Another node in the same tab finds the saved id in use and takes its own.
    const third = await join(b, { room: 'reload-other' });
    expect(third).not.toBe(first);
    expect(await peersOf(b, second, 1)).toEqual(['steady']);
    await expect
      .poll(() =>
        a.evaluate(() =>
          window.harness.nodes
            .get('steady')
            ?.peers()
            .map((p) => p.id),
        ),
      )
      .toEqual([first]);
  });

  test('peers stay connected while the coordinator restarts, and rejoin it after', async ({
    harnessPage,
    allowConsoleErrors,
  }) => {
    // Chromium itself logs each refused reconnection attempt while the coordinator is down.
    allowConsoleErrors(/WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/);
    let coordinator = await startCoordinator({ port: 0 });
    const { port, url } = coordinator;
    const [a, b] = [await harnessPage(), await harnessPage()];
    await join(a, { room: 'restart', id: 'r-a', coordinator: url });
    await join(b, { room: 'restart', id: 'r-b', coordinator: url });
    await peersOf(a, 'r-a', 1);
    // Listening before the coordinator goes: its sockets can close before a late listener.
    const downs = await armed(a, 'r-a', 'coordinator:down');
    await coordinator.close();
    await downs();
    expect(
      await a.evaluate(() =>
        window.harness.nodes
          .get('r-a')
          ?.peers()
          .map((p) => p.id),
      ),
    ).toEqual(['r-b']);

    const ups = await armed(a, 'r-a', 'coordinator:up');
    coordinator = await startCoordinator({ port });
    await ups();
    const c = await harnessPage();
    await join(c, { room: 'restart', id: 'r-c', coordinator: url });
    expect(await peersOf(a, 'r-a', 2)).toEqual(['r-b', 'r-c']);
    await coordinator.close();
  });
});

/** Listens now for a node's event; the function returned waits for the first one and gives it. */
async function armed(
  page: Page,
  id: string,
  event: 'coordinator:down' | 'coordinator:up' | 'dropped',
): Promise<() => Promise<unknown>> {
  const key = `armed:${id}:${event}`;
  await page.evaluate(
    ([id, event, key]) => {
      const slots = window as unknown as Record<string, Promise<unknown>>;
      slots[key] = new Promise((resolve) => {
        window.harness.nodes.get(id)?.on(event, resolve);
      });
    },
    [id, event, key] as const,
  );
  return () => page.evaluate((key) => (window as unknown as Record<string, unknown>)[key], key);
}
