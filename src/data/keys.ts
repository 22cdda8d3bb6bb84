/**
 * The one key shape for a value of a DAG in memory: the DAG id's length, then both ids, so no
 * two pairs of ids ever make the same key (ids may hold any character), and every key of a DAG
 * starts with {@link dagPrefix}. Cheap: no JSON, one string.
 */
export function dataKey(dagId: string, dataId: string): string {
  return `${dagId.length}:${dagId}${dataId}`;
}

/** What every {@link dataKey} of the DAG starts with, and no other key does. */
export function dagPrefix(dagId: string): string {
  return `${dagId.length}:${dagId}`;
}

/** One attempt of a task: its data key and the attempt number (digits only, after the last NUL). */
export function attemptKey(dagId: string, taskId: string, attempt: number): string {
  return `${dataKey(dagId, taskId)}\u0000${attempt}`;
}
