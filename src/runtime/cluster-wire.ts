import { DagRunningError } from '../errors.ts';
import type { Cluster } from './cluster.ts';
import { WAIT_TIMEOUT_MS } from './data-service.ts';
import {
  Method,
  parseAttempt,
  parseBatch,
  parseClaim,
  parseDagId,
  parseKey,
  parseLoad,
  parseRun,
  type TaskReport,
  Topic,
} from './messages.ts';
import type { WorkerPorts } from './worker.ts';

/**
 * The node's side of the wire: what it answers and how it hears each topic. Every body is
 * checked where it arrives; one that fails is dropped and reported, and nothing in it runs.
 * Returns the functions that stop listening.
 */
export function listen(cluster: Cluster): (() => void)[] {
  const { rpc, worker, options } = cluster;
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
  rpc.handle(Method.clear, async (body, from) => {
    const dagId = parseDagId(body);
    // Only a run's orchestrator ends it: a clear from anyone else waits for the run to end.
    if (cluster.isRunning(dagId) || cluster.claims.claiming(dagId))
      throw new DagRunningError(dagId, `it runs on peer ${options.id}`);
    const origin = worker.origin(dagId);
    if (origin !== undefined && origin.from !== from && (await cluster.room.live(origin, dagId))) {
      refuse(from, `clear of DAG ${dagId}, whose run peer ${origin.from} orchestrates`);
      throw new DagRunningError(dagId, `it runs on peer ${origin.from}`);
    }
    await cluster.clearHere(dagId);
    return true;
  });
  rpc.handle(Method.locate, (body) => {
    const { dagId, dataId } = parseKey(body);
    return cluster.runs.locate(dagId, dataId);
  });
  rpc.handle(Method.claim, (body) => {
    const { dagId, ticket } = parseClaim(body);
    return cluster.claims.answer(dagId, ticket);
  });
  rpc.handle(Method.status, (body) => cluster.runs.status(parseDagId(body)) ?? null);
  rpc.handle(Method.has, (body) => worker.has(parseAttempt(body)));
  return [
    rpc.onNotify(
      Topic.batch,
      guard((from, { orders, reports, over }) => {
        for (const order of orders) {
          cluster.runs.know(order.dagId);
          if (order.ttl !== undefined) options.expiry?.touch(order.dagId, order.ttl);
        }
        if (orders.length > 0) worker.accept(from, orders);
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

/** How the node's worker reaches the room: fetch and locate values, report, advertise load. */
export function workerPorts(
  cluster: Cluster,
  report: (orchestrator: string, report: TaskReport) => void,
): WorkerPorts {
  const { rpc, options } = cluster;
  return {
    report,
    fetch: (peer, dagId, epoch, dataId, serialize, wait) =>
      rpc.request(
        peer,
        Method.get,
        {
          wait: wait === true,
          dagId,
          epoch,
          dataId,
          serialize: serialize?.fn,
          consumerTaskId: serialize?.consumerTaskId,
        },
        // A waiting fetch lasts as long as its producer takes (a cancel ends it sooner); a big
        // value takes as long as its bytes keep coming.
        { timeoutMs: wait === true ? WAIT_TIMEOUT_MS : undefined, idle: true },
      ),
    locate: async (orchestrator, dagId, dataId) => {
      if (orchestrator === options.id) return cluster.runs.locate(dagId, dataId);
      const holders = await rpc.request(orchestrator, Method.locate, { dagId, dataId });
      return Array.isArray(holders) ? holders.filter((h) => typeof h === 'string') : [];
    },
    laneTo: (peer) => options.transport.peers().find((p) => p.id === peer)?.lane,
    loadChanged: (load) => cluster.loadChanged(load),
  };
}
