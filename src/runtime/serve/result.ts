import { DataNotFoundError, describeCause, RemoteError, UnknownDagError } from '../../errors.ts';
import { call } from '../base/calls.ts';
import type { DataService } from './data-service.ts';

/** How long `result` waits for the room to say who holds an item. */
const FIND_TIMEOUT_MS = 5000;

/**
 * `result()`'s search: a result of the latest run of the DAG the room knows, here, else from a
 * peer that holds it. Every peer is asked whether it holds the item and which run of the DAG it
 * has; peers holding only an earlier run's value are never asked for it. A DAG cleared since
 * its latest run is unknown, whatever a peer that was away during the clear still holds. The
 * errors name the peers that could not be reached, or held it and failed to give it.
 */
export async function findResult(
  data: DataService,
  dagId: string,
  taskId: string,
): Promise<unknown> {
  const { ports } = data;
  const mine = await ports.epochs.current(dagId);
  const clearedHere = await ports.epochs.isCleared(dagId);
  const local = clearedHere ? undefined : await data.read(dagId, taskId);
  const answers = await Promise.all(
    ports.peers().map(async (peer) => {
      try {
        const found = await call(
          ports.rpc,
          peer,
          'data.find',
          { dagId, dataId: taskId },
          { timeoutMs: FIND_TIMEOUT_MS },
        );
        return { peer, ...found, silent: false };
      } catch (error) {
        // One that answered with an error said it cannot tell; one unreached may hold it.
        const silent = !(error instanceof RemoteError);
        return { peer, has: false, knowsDag: false, epoch: 0, cleared: false, silent };
      }
    }),
  );
  const knowing = answers.filter((a) => a.knowsDag || a.cleared);
  // The latest run anyone here knows of is the one whose values count, unless it was cleared.
  const latest = Math.max(mine, ...knowing.map((a) => a.epoch));
  // Who could not say or give it: a peer that was not reached may hold it, or know the DAG.
  const why = answers.filter((a) => a.silent).map((a) => `no answer from ${a.peer}`);
  if ((clearedHere && mine === latest) || knowing.some((a) => a.cleared && a.epoch === latest))
    throw new UnknownDagError(dagId, ['its data was cleared', ...why].join('; '));
  if (local !== undefined && mine === latest) return local.value;
  for (const { peer, has, epoch } of answers) {
    if (!has || epoch !== latest) continue;
    try {
      return await data.fetch(peer, { dagId, epoch: latest, dataId: taskId });
    } catch (error) {
      // it went away or lost it meanwhile: try the next holder
      why.push(`${peer} held it but failed: ${describeCause(error)}`);
    }
  }
  // Either error names the peers that could not say: one of them may know the DAG, or a
  // peer that was leaving as it was asked.
  const detail = why.length === 0 ? undefined : why.join('; ');
  if (ports.knows(dagId) || local !== undefined || knowing.length > 0)
    throw new DataNotFoundError(dagId, taskId, detail);
  throw new UnknownDagError(dagId, detail);
}
