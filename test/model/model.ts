// A plain model of a room: what each operation must give, and how it changes what comes next.
// It knows the values every run must produce and never accepts one of an earlier run.
import { expectedValues, type Op, type Outcome, type TaskSpec } from './ops.ts';

interface RunRecord {
  readonly state: 'running' | 'done' | 'cancelled';
  readonly values: Readonly<Record<string, unknown>>;
  /** Task id -> the node that made it (a done run's allocations). */
  readonly producers: Readonly<Record<string, string>>;
  readonly orchestrator: string;
  readonly tasks: readonly string[];
  /** The run did not finish: each of its values may be there, or not. */
  readonly maybe?: boolean;
}

interface Hold {
  readonly orchestrator: string;
  readonly on: string;
  readonly gate: string;
  readonly value: number;
}

/** Checks an outcome; returns what is wrong with it, or undefined. */
export type Check = (outcome: Outcome) => string | undefined;

const error =
  (code: string): Check =>
  (o) =>
    !o.ok && o.code === code ? undefined : `expected ${code}, got ${show(o)}`;

const oneOf =
  (allowed: readonly (string | { value: unknown })[]): Check =>
  (o) => {
    for (const a of allowed) {
      if (typeof a === 'string' ? !o.ok && o.code === a : o.ok && same(o.value, a.value))
        return undefined;
    }
    return `expected one of ${JSON.stringify(allowed)}, got ${show(o)}`;
  };

export function show(o: Outcome): string {
  return o.ok
    ? `value ${JSON.stringify(o.value)}`
    : `${o.code}${o.message ? ` (${o.message})` : ''}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export class Model {
  /** The node id in each slot, as the driver reports them. */
  ids: readonly string[] = [];
  readonly #closed = new Set<string>();
  /** Nodes whose memory was lost (reloaded): they no longer know the runs they orchestrated. */
  readonly #forgetful = new Set<string>();
  readonly #dags = new Map<string, RunRecord | 'cleared'>();
  readonly #live = new Map<string, Hold>();

  /** DAG ids the room has seen (for ops that pick one). */
  get dagIds(): string[] {
    return [...this.#dags.keys()];
  }

  get liveIds(): string[] {
    return [...this.#live.keys()];
  }

  /** Nodes taking part in a live run: they are not reloaded or replaced meanwhile. */
  busy(id: string): boolean {
    for (const h of this.#live.values()) if (h.orchestrator === id || h.on === id) return true;
    return false;
  }

  hold(dagId: string): Hold | undefined {
    return this.#live.get(dagId);
  }

  tasksOf(dagId: string): readonly string[] {
    const rec = this.#dags.get(dagId);
    return rec === undefined || rec === 'cleared' ? [] : rec.tasks;
  }

  /** What the op must give. */
  expect(op: Op): Check {
    switch (op.kind) {
      case 'run': {
        if (op.dagId !== undefined && this.#live.has(op.dagId)) return error('dag_running');
        const values = expectedValues(op.tasks);
        return (o) => {
          if (!o.ok) return `expected the run's results, got ${show(o)}`;
          const { results, allocations } = o.value as {
            results: unknown;
            allocations: Record<string, string>;
          };
          if (!same(results, values))
            return `wrong results ${JSON.stringify(results)}, expected ${JSON.stringify(values)}`;
          for (const t of op.tasks) {
            if (t.node !== undefined && allocations[t.id] !== t.node)
              return `${t.id} pinned on ${t.node} ran on ${allocations[t.id]}`;
          }
          return undefined;
        };
      }
      case 'hold':
        return this.#live.has(op.dagId)
          ? error('dag_running')
          : (o) => (o.ok ? undefined : `hold failed: ${show(o)}`);
      case 'release': {
        const hold = this.#live.get(op.dagId) as Hold;
        return (o) =>
          o.ok && same((o.value as { results: unknown }).results, { x: hold.value })
            ? undefined
            : `release expected { x: ${hold.value} }, got ${show(o)}`;
      }
      case 'cancel':
        return error('cancelled');
      case 'clear':
        return this.#live.has(op.dagId)
          ? error('dag_running')
          : (o) => (o.ok ? undefined : `clear failed: ${show(o)}`);
      case 'result':
        return this.#expectResult(op.dagId, op.taskId);
      case 'status':
        return this.#expectStatus(op.dagId);
      case 'reload':
      case 'replace':
        return (o) => (o.ok ? undefined : `${op.kind} failed: ${show(o)}`);
    }
  }

  /** Moves the model on, once the op gave `outcome` (already checked). */
  update(op: Op, outcome: Outcome): void {
    switch (op.kind) {
      case 'run': {
        if (!outcome.ok) return;
        const { dagId, allocations } = outcome.value as {
          dagId: string;
          allocations: Record<string, string>;
        };
        this.#dags.set(dagId, {
          state: 'done',
          values: expectedValues(op.tasks),
          producers: allocations,
          orchestrator: this.ids[op.at] as string,
          tasks: op.tasks.map((t) => t.id),
        });
        return;
      }
      case 'hold': {
        if (!outcome.ok) return;
        const orchestrator = this.ids[op.at] as string;
        const on = this.ids[op.on] as string;
        this.#live.set(op.dagId, { orchestrator, on, gate: op.gate, value: op.value });
        this.#dags.set(op.dagId, {
          state: 'running',
          values: {},
          producers: {},
          orchestrator,
          tasks: ['x'],
        });
        return;
      }
      case 'release': {
        const hold = this.#live.get(op.dagId) as Hold;
        this.#live.delete(op.dagId);
        this.#dags.set(op.dagId, {
          state: 'done',
          values: { x: hold.value },
          producers: { x: hold.on },
          orchestrator: hold.orchestrator,
          tasks: ['x'],
        });
        return;
      }
      case 'cancel': {
        const hold = this.#live.get(op.dagId) as Hold;
        this.#live.delete(op.dagId);
        // A task ending as its run is cancelled may still be stored: that run's value, or none.
        this.#dags.set(op.dagId, {
          state: 'cancelled',
          values: { x: hold.value },
          producers: { x: hold.on },
          orchestrator: hold.orchestrator,
          tasks: ['x'],
          maybe: true,
        });
        return;
      }
      case 'clear':
        if (outcome.ok) this.#dags.set(op.dagId, 'cleared');
        return;
      case 'reload':
        this.#forgetful.add(this.ids[op.at] as string);
        return;
      case 'replace':
        this.#closed.add(this.ids[op.at] as string);
        return;
      case 'result':
      case 'status':
        return;
    }
  }

  #expectResult(dagId: string, taskId: string): Check {
    const rec = this.#dags.get(dagId);
    if (rec === undefined || rec === 'cleared') return error('unknown_dag');
    if (!(taskId in rec.values)) {
      // The DAG is known, unless every node that knew it is gone or forgot it.
      return oneOf(['data_not_found', 'unknown_dag']);
    }
    const producer = rec.producers[taskId] as string;
    if (this.#closed.has(producer) || rec.maybe === true)
      return oneOf([{ value: rec.values[taskId] }, 'data_not_found', 'unknown_dag']);
    return oneOf([{ value: rec.values[taskId] }]);
  }

  #expectStatus(dagId: string): Check {
    const rec = this.#dags.get(dagId);
    if (rec === undefined || rec === 'cleared') return error('unknown_dag');
    const lost = this.#closed.has(rec.orchestrator) || this.#forgetful.has(rec.orchestrator);
    return (o) => {
      const state = o.ok ? (o.value as { state?: string }).state : undefined;
      if (state === rec.state) return undefined;
      // Its orchestrator is gone or forgot: the room may not know it, or know an earlier run.
      if (lost && (!o.ok ? o.code === 'unknown_dag' : state !== 'running')) return undefined;
      return `status expected ${rec.state}, got ${o.ok ? `state ${state}` : show(o)}`;
    };
  }
}

/** The tasks of a random small DAG over the nodes `ids` (random pins, sometimes none). */
export function randomTasks(rand: () => number, ids: readonly string[]): TaskSpec[] {
  const pin = () => (rand() < 0.6 ? { node: ids[Math.floor(rand() * ids.length)] as string } : {});
  const v = Math.floor(rand() * 1000);
  switch (Math.floor(rand() * 3)) {
    case 0:
      return [{ id: 'x', fn: 'identity', extraArgs: [v], ...pin() }];
    case 1:
      return [
        { id: 'x', fn: 'identity', extraArgs: [v], ...pin() },
        { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [3], ...pin() },
      ];
    default:
      return [
        { id: 'x', fn: 'identity', extraArgs: [v], ...pin() },
        { id: 'y', fn: 'multiply', args: ['x'], extraArgs: [2], ...pin() },
        { id: 'z', fn: 'multiply', args: ['x'], extraArgs: [5], ...pin() },
        { id: 'w', fn: 'add', args: ['y', 'z'], ...pin() },
      ];
  }
}
