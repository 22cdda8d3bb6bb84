// The script of the warm-buffer Worker (see `warm-buffers.ts`): for each request, a buffer of
// the size asked with every page of it written once, handed back transferred (not copied).

/** What the page asks: a buffer of `bytes`, answered with the same `n`. */
export interface WarmRequest {
  readonly n: number;
  readonly bytes: number;
}
/** The buffer, or null when it could not be had (out of memory): the page makes its own. */
export interface WarmReply {
  readonly n: number;
  readonly buffer: ArrayBuffer | null;
}

/** Writing one byte of each 4 KiB page makes the system give the page now, here. */
const PAGE = 4096;

function warm(bytes: number): ArrayBuffer | null {
  try {
    const buffer = new ArrayBuffer(bytes);
    const view = new Uint8Array(buffer);
    for (let at = 0; at < bytes; at += PAGE) view[at] = 0;
    return buffer;
  } catch {
    return null;
  }
}

const scope = globalThis as unknown as {
  postMessage(message: WarmReply, transfer: Transferable[]): void;
  onmessage: ((event: MessageEvent<WarmRequest>) => void) | null;
};
scope.onmessage = ({ data: { n, bytes } }) => {
  const buffer = Number.isSafeInteger(bytes) && bytes > 0 ? warm(bytes) : null;
  scope.postMessage({ n, buffer }, buffer === null ? [] : [buffer]);
};
