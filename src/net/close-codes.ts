/**
 * WebSocket close codes the coordinator sends, shared by the coordinator (which closes with
 * them) and the node side (which turns them into the reason of `coordinator:down` and of a
 * `CoordinatorError`). Pure constants: no I/O.
 */
export const CloseCode = {
  /** The coordinator is shutting down; reconnect (elsewhere, behind the same URL). */
  goingAway: 1001,
  /** A frame beyond the socket's size limit (sent by `ws` itself). */
  messageTooBig: 1009,
  /** A handler failed unexpectedly; the coordinator goes on. */
  internalError: 1011,
  /** A newer connection of the same id took this seat (a reloaded tab). */
  replaced: 4000,
  /** The id's signalling connection closed, so its room seats go too. */
  evicted: 4001,
  /** The id, room or session is missing, malformed or too long. */
  badRequest: 4400,
  /** No signalling connection holds this id with this token. */
  unauthorized: 4401,
  /** The id already holds as many room seats as allowed. */
  tooManySeats: 4403,
  /** A message beyond the socket's size limit. */
  tooLarge: 4413,
  /** A message that is not what this socket accepts (not JSON, wrong shape, binary, unasked). */
  malformed: 4415,
  /** More messages per second than allowed. */
  tooFast: 4429,
  /** More connections from one address than allowed. */
  tooManyConnections: 4430,
  /** The coordinator has as many clients as it accepts. */
  full: 4503,
} as const;

const MEANING: Record<number, string> = {
  1001: 'the coordinator is shutting down',
  1006: 'the connection dropped',
  1009: 'a message was too large',
  1011: 'the coordinator failed to handle a message',
  4000: 'replaced by a newer connection of this id',
  4001: "this id's signalling connection closed",
  4400: 'malformed id, room or session',
  4401: 'no signalling connection with this id and token',
  4403: 'this id holds too many room seats',
  4413: 'a message was too large',
  4415: 'a message this socket does not accept',
  4429: 'too many messages per second',
  4430: 'too many connections from this address',
  4503: 'the coordinator is full',
};

/** A readable reason for a close: what the code means and what the coordinator said. */
export function describeClose(code: number, reason: string): string {
  const meaning = MEANING[code];
  const said = reason.trim();
  if (meaning === undefined) return said ? `closed (${code}): ${said}` : `closed (${code})`;
  return said && said !== meaning ? `${meaning} (${code}: ${said})` : `${meaning} (${code})`;
}
