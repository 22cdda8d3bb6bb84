// The model test's ops on nodes over the in-memory transport, in fake time: every op is bounded
// in fake milliseconds, so a run that would hang shows as `hang` at once.
import { vi } from 'vitest';
import {
  createMemoryStore,
  createNode,
  Dag,
  type HandoutNode,
  type ResultStore,
  type RunHandle,
  withContext,
} from '../../src/index.ts';
import { MemoryHub } from '../../src/testing/memory.ts';
import type { Driver, Op, Outcome } from './ops.ts';

interface Slot {
  node: HandoutNode;
  readonly store: ResultStore;
}

/** Fake milliseconds an op may take before it counts as a hang. */
const BOUND_MS = 60_000;

export class MemoryDriver implements Driver {
  readonly #hub = new MemoryHub();
  readonly #slots: Slot[] = [];
  readonly #gates = new Map<string, () => void>();
  readonly #waiting = new Map<string, Promise<void>>();
  readonly #holds = new Map<string, { handle: RunHandle; gate: string }>();
  #made = 0;

  readonly #functions = {
    identity: (x: unknown) => x,
    multiply: (a: number, b: number) => a * b,
    add: (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
    held: withContext(async (_ctx, x: unknown, gate: string) => {
      await this.#gate(gate);
      return x;
    }),
  };

  /** A room of `n` nodes that have all met. Call with fake timers on. */
  static async start(n: number): Promise<MemoryDriver> {
    const driver = new MemoryDriver();
    for (let i = 0; i < n; i++) {
      driver.#slots.push(await driver.#open(`n${driver.#made++}`, createMemoryStore()));
    }
    await driver.#met();
    return driver;
  }

  ids(): string[] {
    return this.#slots.map((s) => s.node.id);
  }

  async close(): Promise<void> {
    for (const open of this.#gates.values()) open();
    await Promise.all(this.#slots.map((s) => s.node.close()));
  }

  apply(op: Op): Promise<Outcome> {
    return settle(this.#apply(op));
  }

  async #apply(op: Op): Promise<Outcome> {
    const node = (at: number) => (this.#slots[at] as Slot).node;
    switch (op.kind) {
      case 'run': {
        const dag = new Dag(op.dagId);
        for (const t of op.tasks)
          dag.add({ ...t, args: [...(t.args ?? [])], extraArgs: [...(t.extraArgs ?? [])] });
        const { dagId, results, allocations } = await node(op.at).execute(dag);
        return { ok: true, value: { dagId, results, allocations } };
      }
      case 'hold': {
        const on = node(op.on).id;
        const dag = new Dag(op.dagId).add({
          id: 'x',
          fn: 'held',
          extraArgs: [op.value, op.gate],
          node: on,
        });
        const handle = node(op.at).submit(dag);
        const started = new Promise<void>((resolve) => handle.on('task:started', () => resolve()));
        await Promise.race([started, handle.done]);
        this.#holds.set(op.dagId, { handle, gate: op.gate });
        return { ok: true, value: 'held' };
      }
      case 'release': {
        const hold = this.#holds.get(op.dagId);
        if (hold === undefined) throw new Error(`no live run ${op.dagId}`);
        this.#holds.delete(op.dagId);
        this.#open_(hold.gate);
        const { results } = await hold.handle.done;
        return { ok: true, value: { results } };
      }
      case 'cancel': {
        const hold = this.#holds.get(op.dagId);
        if (hold === undefined) throw new Error(`no live run ${op.dagId}`);
        this.#holds.delete(op.dagId);
        hold.handle.cancel('model');
        try {
          await hold.handle.done;
          return { ok: true, value: 'not cancelled' };
        } finally {
          this.#open_(hold.gate); // the function ignores the signal; let it end
        }
      }
      case 'clear':
        await node(op.at).clear(op.dagId);
        return { ok: true, value: undefined };
      case 'result':
        return { ok: true, value: await node(op.at).result(op.dagId, op.taskId) };
      case 'status':
        return { ok: true, value: { state: (await node(op.at).status(op.dagId)).state } };
      case 'reload':
      case 'replace': {
        const slot = this.#slots[op.at] as Slot;
        await slot.node.close();
        const id = op.kind === 'reload' ? slot.node.id : `n${this.#made++}`;
        const store = op.kind === 'reload' ? slot.store : createMemoryStore();
        this.#slots[op.at] = await this.#open(id, store);
        await this.#met();
        return { ok: true, value: op.kind };
      }
    }
  }

  async #open(id: string, store: ResultStore): Promise<Slot> {
    const transport = await this.#hub.join({ id, room: 'model' });
    const node = await createNode({ functions: this.#functions, transport, store });
    return { node, store };
  }

  /** Waits until every node sees every other. */
  async #met(): Promise<void> {
    const all = () => this.#slots.every((s) => s.node.peers().length === this.#slots.length - 1);
    for (let waited = 0; !all(); waited += 10) {
      if (waited > BOUND_MS) throw new Error('the room never formed');
      await vi.advanceTimersByTimeAsync(10);
    }
  }

  #gate(name: string): Promise<void> {
    let waiting = this.#waiting.get(name);
    if (waiting === undefined) {
      waiting = new Promise<void>((resolve) => this.#gates.set(name, resolve));
      this.#waiting.set(name, waiting);
    }
    return waiting;
  }

  #open_(name: string): void {
    void this.#gate(name);
    this.#gates.get(name)?.();
  }
}

/** Waits for an op in fake time; one that takes more than {@link BOUND_MS} is a hang. */
async function settle(work: Promise<Outcome>): Promise<Outcome> {
  let outcome: Outcome | undefined;
  work.then(
    (o) => {
      outcome = o;
    },
    (e: { code?: string; message?: string }) => {
      outcome = { ok: false, code: e?.code ?? 'error', message: e?.message ?? String(e) };
    },
  );
  for (let waited = 0; outcome === undefined && waited <= BOUND_MS; waited += 10)
    await vi.advanceTimersByTimeAsync(10);
  return outcome ?? { ok: false, code: 'hang', message: `unsettled after ${BOUND_MS} ms` };
}
