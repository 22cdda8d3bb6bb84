import type { Task } from '../../dag/types.ts';
import type { RemoteErrorInfo } from '../../net/protocol.ts';
import { BadMessage, count, list, parseError, parseTask, record, text } from './message-checks.ts';

/**
 * What a pipeline's orchestrator and the peers hosting its stages say to each other: opening a
 * stage (a request, answered once its `init` ran), items to run, their outcomes, and the end.
 * Items ride in memory over the links, never through a store.
 */
export const StreamTopic = {
  /** orchestrator -> host: StageCalls */
  calls: 'stream.calls',
  /** host -> orchestrator: StageResults */
  results: 'stream.results',
  /** orchestrator -> host: { p }: the pipeline is over, its stages there go */
  close: 'stream.close',
} as const;

/** A stage to host, with the pipeline it belongs to (the `stream.open` request). */
export interface StageOpen {
  readonly p: string;
  readonly dagId: string;
  readonly stage: Task;
}

/** One item for one stage: its id, which attempt, its arguments from its producers. */
export interface StageCall {
  readonly s: string;
  readonly i: number;
  readonly a: number;
  readonly args: readonly unknown[];
}

export interface StageCalls {
  readonly p: string;
  readonly calls: readonly StageCall[];
}

/** How one call ended: its value, or its error. */
export type StageOutcome =
  | { readonly s: string; readonly i: number; readonly a: number; readonly v: unknown }
  | { readonly s: string; readonly i: number; readonly a: number; readonly e: RemoteErrorInfo };

export interface StageResults {
  readonly p: string;
  readonly out: readonly StageOutcome[];
}

/** The error code of a call that reached a peer not hosting its stage (it restarted, say). */
export const STAGE_CLOSED = 'stage_closed';

export function parseStageOpen(body: unknown): StageOpen {
  const b = record(body, 'stream.open');
  const stage = parseTask(b.stage);
  if (stage.input === true) throw new BadMessage('an input is not a stage');
  return { p: text(b.p, 'p'), dagId: text(b.dagId, 'dagId'), stage };
}

export function parseStageCalls(body: unknown): StageCalls {
  const b = record(body, 'stream.calls');
  const calls = list(b.calls, 'calls').map((value): StageCall => {
    const c = record(value, 'call');
    return {
      s: text(c.s, 's'),
      i: count(c.i, 'i'),
      a: count(c.a, 'a'),
      args: list(c.args, 'args', 65_536),
    };
  });
  return { p: text(b.p, 'p'), calls };
}

export function parseStageResults(body: unknown): StageResults {
  const b = record(body, 'stream.results');
  const out = list(b.out, 'out').map((value): StageOutcome => {
    const o = record(value, 'outcome');
    const key = { s: text(o.s, 's'), i: count(o.i, 'i'), a: count(o.a, 'a') };
    return o.e === undefined ? { ...key, v: o.v } : { ...key, e: parseError(o.e) };
  });
  return { p: text(b.p, 'p'), out };
}

export function parsePipelineId(body: unknown): string {
  return text(record(body, 'stream.close').p, 'p');
}
