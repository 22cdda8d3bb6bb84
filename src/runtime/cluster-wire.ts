import { DagRunningError } from '../errors.ts';
import { call, serve } from './base/calls.ts';
import { parseBatch, parseLoad, parseRun } from './base/message-checks.ts';
import { type TaskReport, Topic } from './base/messages.ts';
import type { Cluster } from './cluster.ts';
import type { Batch } from './outbox.ts';
import type { RunnerPorts } from './work/task-runner.ts';

/**
 * The node's side of the wire: what it answers and how it hears each topic. Every body is
 * checked where it arrives; one that fails is dropped and reported, and nothing in it runs.
 * Returns the functions that stop listening.
 */
export function listen(cluster: Cluster): (() => void)[] {
  const { rpc, runner, options } = cluster;
  const guard =
    <T>(handle: (from: string, body: T) => void, parse: (body: unknown) => T) =>
    ({ from, body }: { from: string; body: unknown }) => {
      let parsed: T;
      try {
        parsed = parse(body);
      } catch (error) {
        cluster.dropped.emit('dropped', { from, reason: 'malformed', detail: String(error) });
        return;
      }
      handle(from, parsed);
    };
  const refuse = (from: string, detail: string) =>
    cluster.dropped.emit('dropped', { from, reason: 'unauthorized', detail });
  cluster.data.serve();
  serve(rpc, 'data.clear', async ({ dagId, epoch }, from) => {
    // Only a run's orchestrator ends it: a clear from anyone else waits for the run to end.
    if (cluster.isRunning(dagId) || cluster.claims.claiming(dagId))
      throw new DagRunningError(dagId, `it runs on peer ${options.id}`);
    const origin = runner.origin(dagId);
    if (origin !== undefined && origin.from !== from && (await cluster.room.live(origin, dagId))) {
      refuse(from, `clear of DAG ${dagId}, whose run peer ${origin.from} orchestrates`);
      throw new DagRunningError(dagId, `it runs on peer ${origin.from}`);
    }
    await cluster.clearHere(dagId, epoch);
    return true;
  });
  serve(rpc, 'data.locate', ({ dagId, dataId }) => cluster.runs.locate(dagId, dataId));
  serve(rpc, 'run.claim', ({ dagId, ticket }) => cluster.claims.answer(dagId, ticket));
  serve(rpc, 'run.status', ({ dagId }) => cluster.runs.status(dagId) ?? null);
  serve(rpc, 'run.has', (key) => runner.has(key));
  return [
    rpc.onNotify(
      Topic.batch,
      guard((from, { orders, reports, over }) => {
        for (const order of orders) {
          cluster.runs.know(order.dagId);
          if (order.ttl !== undefined) options.expiry?.touch(order.dagId, order.ttl);
        }
        if (orders.length > 0) runner.accept(from, orders);
        if (reports.length > 0) cluster.route(from, reports);
        for (const { dagId, epoch } of over)
          if (!cluster.over(from, dagId, epoch))
            refuse(from, `cancel of DAG ${dagId}, whose run here another peer orchestrates`);
      }, parseBatch),
    ),
    rpc.onNotify(
      Topic.begin,
      guard((_from, { dagId, epoch }) => cluster.adopt(dagId, epoch), parseRun),
    ),
    rpc.onNotify(
      Topic.load,
      guard((from, load) => {
        cluster.book.advertise(from, load);
        cluster.pumpAll();
      }, parseLoad),
    ),
  ];
}

/** How the node's task runner reaches the room: fetch and locate values, report, advertise load. */
export function runnerPorts(
  cluster: Cluster,
  report: (orchestrator: string, report: TaskReport) => void,
): RunnerPorts {
  const { rpc, options } = cluster;
  return {
    report,
    fetch: (peer, dagId, epoch, dataId, serialize, wait) =>
      cluster.data.take(
        peer,
        {
          dagId,
          epoch,
          dataId,
          serialize: serialize?.fn,
          consumerTaskId: serialize?.consumerTaskId,
          wait,
        },
        undefined,
        serialize === undefined, // a value turned for this edge is not kept
      ),
    locate: (orchestrator, dagId, dataId) =>
      orchestrator === options.id
        ? Promise.resolve(cluster.runs.locate(dagId, dataId))
        : call(rpc, orchestrator, 'data.locate', { dagId, dataId }),
    laneTo: (peer) => options.transport.peers().find((p) => p.id === peer)?.lane,
    loadChanged: (load) => cluster.loadChanged(load),
  };
}

/** Hands a batch to its peer: the local worker and runs directly, others over the wire. */
export function deliver(cluster: Cluster, peer: string, { orders, reports, over }: Batch): void {
  const self = cluster.options.id;
  if (peer === self) {
    if (orders.length > 0) cluster.runner.accept(self, orders);
    if (reports.length > 0) cluster.route(self, reports);
    for (const run of over) cluster.over(self, run.dagId, run.epoch);
    return;
  }
  // One message; a peer that is gone has its tasks placed again when its leave is noticed.
  const body = {
    ...(orders.length > 0 ? { orders } : {}),
    ...(reports.length > 0 ? { reports } : {}),
    ...(over.length > 0 ? { over } : {}),
  };
  void cluster.rpc.notify(peer, Topic.batch, body).catch(() => undefined);
}
