import {
  DataNotFoundError,
  type HandoutErrorCode,
  PeerGoneError,
  RemoteError,
  RequestTimeoutError,
  UnknownDagError,
} from '../../errors.ts';

/** Whether a failed fetch means the value is not there (rather than a hook that threw). */
export function isLoss(error: unknown): boolean {
  if (
    error instanceof PeerGoneError ||
    error instanceof RequestTimeoutError ||
    error instanceof DataNotFoundError ||
    error instanceof UnknownDagError
  )
    return true;
  return error instanceof RemoteError && LOSS_CODES.has(error.remoteCode);
}

/** What a peer's failure to give a value means it is not there (the compiler checks each code). */
const LOSS_CODES: ReadonlySet<string> = new Set<HandoutErrorCode>([
  'data_not_found',
  'unknown_dag',
  'storage',
  'peer_gone',
  'node_closed',
]);
