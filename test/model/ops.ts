// The operations of the randomized model test, and how their outcomes are written down. Pure:
// the unit twin (in-memory transport) and the browser test (real tabs) both drive these.

/** A task as the generator writes it: plain data, built into a `Dag` where the op runs. */
export interface TaskSpec {
  readonly id: string;
  readonly fn: 'identity' | 'multiply' | 'add' | 'held';
  readonly args?: readonly string[];
  readonly extraArgs?: readonly unknown[];
  readonly node?: string;
}

export type Op =
  /** Runs a DAG to its end from node `at`; `dagId` undefined: `new Dag()` generates one. */
  | {
      readonly kind: 'run';
      readonly at: number;
      readonly dagId: string | undefined;
      readonly tasks: readonly TaskSpec[];
    }
  /** Submits a one-task DAG whose task waits for gate `gate` on node `on` (the run stays live). */
  | {
      readonly kind: 'hold';
      readonly at: number;
      readonly dagId: string;
      readonly on: number;
      readonly gate: string;
      readonly value: number;
    }
  /** Opens the gate of the live run of `dagId` and waits for the run's end. */
  | { readonly kind: 'release'; readonly dagId: string }
  /** Cancels the live run of `dagId` through its handle, on its orchestrator. */
  | { readonly kind: 'cancel'; readonly dagId: string }
  | { readonly kind: 'clear'; readonly at: number; readonly dagId: string }
  | {
      readonly kind: 'result';
      readonly at: number;
      readonly dagId: string;
      readonly taskId: string;
    }
  | { readonly kind: 'status'; readonly at: number; readonly dagId: string }
  /** The node's tab reloads: same id, same store, its memory gone. */
  | { readonly kind: 'reload'; readonly at: number }
  /** The node's tab closes for good; a new node (new id) takes its slot. */
  | { readonly kind: 'replace'; readonly at: number };

/** What an op gave: a value, or a typed error's `code`. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly code: string; readonly message?: string };

/** What runs the ops: over the in-memory transport, or in real tabs. */
export interface Driver {
  /** The current id of each node slot. */
  ids(): readonly string[];
  /** Runs one op; the outcome of a `run`/`release` is `{ results, allocations, dagId }`. */
  apply(op: Op): Promise<Outcome>;
}

/** The value each task of a DAG must have, computed by the model itself. */
export function expectedValues(tasks: readonly TaskSpec[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const t of tasks) {
    const args = (t.args ?? []).map((a) => values[a] as number);
    const extra = (t.extraArgs ?? []) as number[];
    switch (t.fn) {
      case 'identity':
      case 'held':
        values[t.id] = extra[0];
        break;
      case 'multiply':
        values[t.id] = (args[0] as number) * (extra[0] as number);
        break;
      case 'add':
        values[t.id] = [...args, ...extra].reduce((s, x) => s + x, 0);
        break;
    }
  }
  return values;
}
