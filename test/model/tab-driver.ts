// The model test's ops in real tabs: each node is a harness page joined to a real coordinator
// over WebRTC, storing in its own IndexedDB. A reload is a real page reload (same id, same
// database); a replaced node's tab is closed and a new tab, with a new id, takes its slot.
import type { Page } from '@playwright/test';
import type { Driver, Op, Outcome } from './ops.ts';

/** Milliseconds an op may take before it counts as a hang. */
const BOUND_MS = 30_000;

interface Tab {
  page: Page;
  id: string;
}

export interface TabDriverOptions {
  readonly coordinator: string;
  readonly room: string;
  /** Opens a harness page (ready), in a fresh browser context. */
  openTab(): Promise<Page>;
}

export class TabDriver implements Driver {
  readonly #tabs: Tab[] = [];
  readonly #holds = new Map<string, { orchestrator: Tab; on: Tab; gate: string }>();
  #made = 0;

  constructor(readonly options: TabDriverOptions) {}

  /** A room of `n` tabs that have all met. */
  static async start(n: number, options: TabDriverOptions): Promise<TabDriver> {
    const driver = new TabDriver(options);
    const pages = await Promise.all(Array.from({ length: n }, () => options.openTab()));
    for (const page of pages) driver.#tabs.push({ page, id: driver.#newId() });
    await Promise.all(driver.#tabs.map((tab) => driver.#join(tab)));
    await driver.#met();
    return driver;
  }

  ids(): string[] {
    return this.#tabs.map((t) => t.id);
  }

  async apply(op: Op): Promise<Outcome> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, code: 'hang', message: `unsettled after ${BOUND_MS} ms` }),
        BOUND_MS,
      );
    });
    try {
      return await Promise.race([this.#apply(op), hang]);
    } catch (error) {
      return { ok: false, code: 'driver', message: String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async #apply(op: Op): Promise<Outcome> {
    const tab = (at: number) => this.#tabs[at] as Tab;
    switch (op.kind) {
      case 'run':
        return tab(op.at).page.evaluate(
          async ({ id, dagId, tasks }) => {
            const h = window.harness;
            const made = h.outcome(
              Promise.resolve().then(() => h.submit(id, dagId, tasks as never)),
            );
            const submitted = await made;
            if (!submitted.ok) return submitted;
            const run = h.runs.get(submitted.value as string);
            const outcome = (await run?.outcome) as Record<string, unknown>;
            if (outcome.ok !== true)
              return { ok: false, code: String(outcome.code), message: String(outcome.message) };
            const { dagId: ran, results, allocations } = outcome;
            return { ok: true, value: { dagId: ran, results, allocations } };
          },
          { id: tab(op.at).id, dagId: op.dagId, tasks: op.tasks },
        ) as Promise<Outcome>;
      case 'hold': {
        const orchestrator = tab(op.at);
        const on = tab(op.on);
        const outcome = (await orchestrator.page.evaluate(
          async ({ id, dagId, on, gate, value }) => {
            const h = window.harness;
            const task = { id: 'x', fn: 'held', extraArgs: [value, gate], node: on };
            const submitted = await h.outcome(
              Promise.resolve().then(() => h.submit(id, dagId, [task])),
            );
            if (!submitted.ok) return submitted;
            const run = h.runs.get(dagId);
            if (run === undefined) return { ok: false, code: 'driver', message: 'no run' };
            const started = new Promise((resolve) => run.handle.on('task:started', resolve));
            const first = (await Promise.race([started.then(() => 'started'), run.outcome])) as
              | string
              | { ok: boolean; code?: string; message?: string };
            if (first === 'started') return { ok: true, value: 'held' };
            return {
              ok: false,
              code: String((first as { code?: string }).code),
              message: String((first as { message?: string }).message),
            };
          },
          { id: orchestrator.id, dagId: op.dagId, on: on.id, gate: op.gate, value: op.value },
        )) as Outcome;
        if (outcome.ok) this.#holds.set(op.dagId, { orchestrator, on, gate: op.gate });
        return outcome;
      }
      case 'release':
      case 'cancel': {
        const hold = this.#holds.get(op.dagId);
        if (hold === undefined) throw new Error(`no live run ${op.dagId}`);
        this.#holds.delete(op.dagId);
        if (op.kind === 'release')
          await hold.on.page.evaluate((g) => window.harness.open(g), hold.gate);
        const outcome = (await hold.orchestrator.page.evaluate(
          async ({ dagId, cancel }) => {
            const run = window.harness.runs.get(dagId);
            if (cancel) run?.handle.cancel('model');
            const o = (await run?.outcome) as Record<string, unknown>;
            return o.ok === true
              ? { ok: true, value: { results: o.results } }
              : { ok: false, code: String(o.code), message: String(o.message) };
          },
          { dagId: op.dagId, cancel: op.kind === 'cancel' },
        )) as Outcome;
        // The held function ignores the signal: let it end (its late result is discarded).
        if (op.kind === 'cancel')
          await hold.on.page.evaluate((g) => window.harness.open(g), hold.gate);
        return outcome;
      }
      case 'clear':
      case 'result':
      case 'status':
        return tab(op.at).page.evaluate(
          async ({ id, op }) => {
            const node = window.harness.nodes.get(id);
            if (node === undefined) return { ok: false, code: 'driver', message: `no node ${id}` };
            if (op.kind === 'clear') return window.harness.outcome(node.clear(op.dagId));
            if (op.kind === 'result')
              return window.harness.outcome(node.result(op.dagId, op.taskId));
            return window.harness.outcome(node.status(op.dagId).then((s) => ({ state: s.state })));
          },
          { id: tab(op.at).id, op },
        ) as Promise<Outcome>;
      case 'reload': {
        const t = tab(op.at);
        await t.page.reload();
        await t.page.waitForFunction(
          () => document.getElementById('status')?.textContent === 'ready',
        );
        await this.#join(t);
        await this.#met();
        return { ok: true, value: 'reload' };
      }
      case 'replace': {
        const old = tab(op.at);
        await old.page.context().close();
        const fresh = { page: await this.options.openTab(), id: this.#newId() };
        this.#tabs[op.at] = fresh;
        await this.#join(fresh);
        await this.#met();
        return { ok: true, value: 'replace' };
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#tabs.map((t) =>
        t.page
          .context()
          .close()
          .catch(() => undefined),
      ),
    );
  }

  #newId(): string {
    return `${this.options.room}-${this.#made++}`;
  }

  #join(tab: Tab): Promise<unknown> {
    return tab.page.evaluate(
      ({ c, r, id }) => window.harness.node({ coordinator: c, room: r, id }).then(() => undefined),
      { c: this.options.coordinator, r: this.options.room, id: tab.id },
    );
  }

  /** Waits until every tab sees every other. */
  #met(): Promise<unknown> {
    const ids = this.ids();
    return Promise.all(
      this.#tabs.map((t) =>
        t.page.evaluate(({ id, peers }) => window.harness.waitForIds(id, peers), {
          id: t.id,
          peers: ids.filter((x) => x !== t.id),
        }),
      ),
    );
  }
}
