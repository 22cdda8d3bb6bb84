import type { BrowserContext, Page } from '@playwright/test';

/** Helpers for tests that run a room of harness tabs. */

export const coordinator = () => process.env.HANDOUT_COORDINATOR as string;

export interface Tab {
  page: Page;
  id: string;
}

/** What `run` and `result` need of a tab: a Chromium one, or a Firefox one (firefox/fixtures). */
export interface AnyTab {
  page: Pick<Page, 'evaluate'>;
  id: string;
}

/** Three tabs in separate contexts plus one sharing the first one's context, all in one room. */
export async function room(
  harnessPage: (context?: BrowserContext) => Promise<Page>,
  name: string,
): Promise<Tab[]> {
  const a = await harnessPage();
  const pages = [a, await harnessPage(), await harnessPage(), await harnessPage(a.context())];
  const ids = ['A', 'B', 'C', 'D'].map((x) => `${name}-${x}`);
  return join(
    name,
    pages.map((page, i) => ({ page, id: ids[i] as string })),
  );
}

/**
 * Creates a node with each tab's id in its page, all in room `name`, and waits until every one
 * sees the others. Tabs of Chromium (Playwright) and of Firefox (firefox/fixtures.ts) alike.
 */
export async function join<T extends AnyTab[]>(name: string, tabs: [...T]): Promise<T> {
  await Promise.all(
    tabs.map(({ page, id }) =>
      page.evaluate(
        ({ c, r, id }) =>
          window.harness.node({ coordinator: c, room: r, id }).then(() => undefined),
        { c: coordinator(), r: name, id },
      ),
    ),
  );
  await Promise.all(
    tabs.map(({ page, id }) =>
      page.evaluate(({ id, n }) => window.harness.waitForPeers(id, n), {
        id,
        n: tabs.length - 1,
      }),
    ),
  );
  return tabs;
}

/** Runs a DAG built in the page from a plain description; resolves with the run's result. */
export function run(
  tab: AnyTab,
  dagId: string,
  tasks: unknown[],
  collect: 'all' | 'sinks' | 'none' = 'all',
) {
  return tab.page.evaluate(
    async ({ id, dagId, tasks, collect }) => {
      const dag = new window.harness.Dag(dagId);
      for (const t of tasks) dag.add(t as import('../../src/index.ts').TaskSpec);
      const node = window.harness.nodes.get(id);
      if (node === undefined) throw new Error('no node');
      return node.execute(dag, { collect });
    },
    { id: tab.id, dagId, tasks, collect },
  );
}

/**
 * Runs a DAG built in the page (collecting its sinks) and lists the arguments fetched between
 * peers, as `argId from->to lane`.
 */
export const runFetching = (tab: AnyTab, dagId: string, tasks: unknown[]) =>
  tab.page.evaluate(
    async ({ id, dagId, tasks }) => {
      const dag = new window.harness.Dag(dagId);
      for (const t of tasks) dag.add(t as import('../../src/index.ts').TaskSpec);
      const handle = window.harness.nodes.get(id)?.submit(dag, { collect: 'sinks' });
      const fetched: string[] = [];
      handle?.on('task:fetched', (f) => fetched.push(`${f.argId} ${f.from}->${f.to} ${f.lane}`));
      const { results } = (await handle?.done) ?? {};
      return { results, fetched };
    },
    { id: tab.id, dagId, tasks },
  );

export const result = (tab: AnyTab, dagId: string, taskId: string) =>
  tab.page.evaluate(
    ({ id, dagId, taskId }) =>
      window.harness.nodes
        .get(id)
        ?.result(dagId, taskId)
        .then(
          (value) => ({ ok: true as const, value }),
          (e: { code: string; name: string }) => ({
            ok: false as const,
            code: e.code,
            name: e.name,
          }),
        ),
    { id: tab.id, dagId, taskId },
  );
