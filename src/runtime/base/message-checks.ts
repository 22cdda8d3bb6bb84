import { normalizeTask } from '../../dag/task.ts';
import type { Task, TaskSpec } from '../../dag/types.ts';
import type { RemoteErrorInfo } from '../../net/protocol.ts';
import type { AttemptKey, Load, LostInput, RunKey, TaskOrder, TaskReport } from './messages.ts';

/**
 * The checks every body from a peer passes before it is used: each returns the body as a typed
 * value or throws `BadMessage`. A body that fails is reported as dropped; nothing in it runs.
 */
export class BadMessage extends Error {
  override name = 'BadMessage';
}

export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BadMessage(`${what} is not an object`);
  return value as Record<string, unknown>;
}

export function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024)
    throw new BadMessage(`${what} is not a name`);
  return value;
}

export function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new BadMessage(`${what} is not a count`);
  return value;
}

function duration(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new BadMessage(`${what} is not a duration`);
  return value;
}

export function list(value: unknown, what: string, max = 100_000): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw new BadMessage(`${what} is not a list`);
  return value;
}

export function parseGet(body: unknown): {
  dagId: string;
  dataId: string;
  epoch: number;
  serialize: string | undefined;
  consumerTaskId: string | undefined;
  wait: boolean;
  parts: boolean;
} {
  const b = record(body, 'request');
  const hook = b.serialize === undefined ? undefined : text(b.serialize, 'serialize');
  return {
    ...parseKey(b),
    epoch: b.epoch === undefined ? 0 : count(b.epoch, 'epoch'),
    serialize: hook,
    consumerTaskId:
      b.consumerTaskId === undefined ? undefined : text(b.consumerTaskId, 'consumerTaskId'),
    wait: b.wait === true,
    // The asker takes a big value as an offer of its parts (see `serve/offers.ts`).
    parts: b.parts === true,
  };
}

/** A `data.part` request: part `index` of the value offered under `token`. */
export function parsePart(body: unknown) {
  const b = record(body, 'request');
  return { ...parseKey(b), token: text(b.token, 'token'), index: count(b.index, 'index') };
}

export function parseKey(body: unknown): { dagId: string; dataId: string } {
  const b = record(body, 'request');
  return { dagId: text(b.dagId, 'dagId'), dataId: text(b.dataId, 'dataId') };
}

export function parseDagId(body: unknown): string {
  return text(record(body, 'request').dagId, 'dagId');
}

/** `{ dagId, epoch }`: a run of a DAG. */
export function parseRun(body: unknown): RunKey {
  const b = record(body, 'request');
  return { dagId: text(b.dagId, 'dagId'), epoch: count(b.epoch, 'epoch') };
}

/** A `run.batch` body: orders, reports and ends of runs, each list optional. */
export function parseBatch(body: unknown): {
  orders: TaskOrder[];
  reports: TaskReport[];
  over: RunKey[];
} {
  const b = record(body, 'batch');
  const keys = Object.keys(b);
  if (keys.length === 0 || keys.some((k) => k !== 'orders' && k !== 'reports' && k !== 'over'))
    throw new BadMessage('a batch holds orders, reports and over, and nothing else');
  return {
    orders: b.orders === undefined ? [] : parseOrders(b.orders),
    reports: b.reports === undefined ? [] : parseReports(b.reports),
    over: b.over === undefined ? [] : list(b.over, 'over').map(parseRun),
  };
}

/** `{ dagId, ticket }`: a claim to start a run of a DAG. */
export function parseClaim(body: unknown): { dagId: string; ticket: string } {
  const b = record(body, 'request');
  return { dagId: text(b.dagId, 'dagId'), ticket: text(b.ticket, 'ticket') };
}

export function parseTask(value: unknown): Task {
  try {
    // A validated task carries its stage settings in `stage`; a spec gives them flat (no copy
    // for a task without them: every order on the hot path).
    const task = record(value, 'task');
    const flat = task.stage === undefined ? task : { ...task, ...record(task.stage, 'stage') };
    return normalizeTask(flat as unknown as TaskSpec);
  } catch (error) {
    throw new BadMessage(`invalid task: ${(error as Error).message}`);
  }
}

export function parseOrders(body: unknown): TaskOrder[] {
  return list(body, 'orders').map((item) => {
    const o = record(item, 'order');
    const locations = record(o.locations, 'locations');
    for (const [argId, holders] of Object.entries(locations)) {
      for (const h of list(holders, `holders of ${argId}`, 1024)) text(h, 'holder');
    }
    return {
      dagId: text(o.dagId, 'dagId'),
      epoch: count(o.epoch, 'epoch'),
      attempt: count(o.attempt, 'attempt'),
      tries: o.tries === undefined ? undefined : count(o.tries, 'tries'),
      task: parseTask(o.task),
      inline: list(o.inline, 'inline').map(parseTask),
      locations: locations as Record<string, string[]>,
      early: o.early === true,
      timeout: o.timeout === undefined ? undefined : duration(o.timeout, 'timeout'),
      ttl: o.ttl === undefined ? undefined : duration(o.ttl, 'ttl'),
    };
  });
}

export function parseReports(body: unknown): TaskReport[] {
  return list(body, 'reports').map((item) => {
    const r = record(item, 'report');
    const base = {
      dagId: text(r.dagId, 'dagId'),
      taskId: text(r.taskId, 'taskId'),
      attempt: count(r.attempt, 'attempt'),
    };
    switch (r.kind) {
      case 'started':
        return { ...base, kind: 'started' };
      case 'stored':
        return { ...base, kind: 'stored' };
      case 'unstored':
        return { ...base, kind: 'unstored', error: parseError(r.error) };
      case 'done':
        return {
          ...base,
          kind: 'done',
          bytes: count(r.bytes, 'bytes'),
          hasValue: r.hasValue === true,
          value: r.value,
          fetched: list(r.fetched, 'fetched', 10_000).map((f) => {
            const x = record(f, 'fetch');
            return {
              argId: text(x.argId, 'argId'),
              from: text(x.from, 'from'),
              bytes: count(x.bytes, 'bytes'),
              ms: Number(x.ms) || 0,
              lane: typeof x.lane === 'string' ? x.lane.slice(0, 32) : '',
            };
          }),
        };
      case 'failed': {
        const e = record(r.error, 'error');
        return {
          ...base,
          kind: 'failed',
          error: {
            code: text(e.code, 'code'),
            message: String(e.message).slice(0, 65_536),
            stack: typeof e.stack === 'string' ? e.stack : undefined,
          },
          retryable: r.retryable !== false,
          lost: r.lost === undefined ? undefined : parseLost(r.lost),
        };
      }
      default:
        throw new BadMessage('unknown report kind');
    }
  });
}

function parseLost(value: unknown): LostInput {
  const l = record(value, 'lost');
  return {
    argId: text(l.argId, 'argId'),
    holders: list(l.holders, 'holders', 1024).map((h) => text(h, 'holder')),
  };
}

export function parseError(value: unknown): RemoteErrorInfo {
  const e = record(value, 'error');
  const stack = typeof e.stack === 'string' ? e.stack.slice(0, 65_536) : undefined;
  return { code: text(e.code, 'code'), message: String(e.message).slice(0, 65_536), stack };
}

export function parseLoad(body: unknown): Load {
  const b = record(body, 'load');
  const used = record(b.used, 'used');
  for (const v of Object.values(used))
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadMessage('bad load');
  return { used: used as Record<string, number>, tasks: count(b.tasks, 'tasks') };
}

export function parseAttempt(body: unknown): AttemptKey {
  const b = record(body, 'request');
  return {
    dagId: text(b.dagId, 'dagId'),
    epoch: count(b.epoch, 'epoch'),
    taskId: text(b.taskId, 'taskId'),
    attempt: count(b.attempt, 'attempt'),
  };
}
