import { type PartsHead, restoreWith, view } from './parts.ts';

/**
 * Gathers the parts of one value, in order, into buffers of their exact size, then gives the
 * value back. Throws `RangeError` when the page cannot allocate them.
 */
export class Assembly {
  readonly #buffers: Uint8Array[];
  readonly #total: number;
  #binary = 0;
  #offset = 0;
  #received = 0;

  constructor(readonly head: PartsHead) {
    this.#buffers = head.buffers.map((bytes) => new Uint8Array(bytes));
    this.#total = head.buffers.reduce((a, b) => a + b, 0);
  }

  /** Adds the next part; false when it does not fit where the head says parts go. */
  add(part: ArrayBuffer | ArrayBufferView): boolean {
    const bytes = ArrayBuffer.isView(part)
      ? new Uint8Array(part.buffer, part.byteOffset, part.byteLength)
      : new Uint8Array(part);
    while (
      this.#binary < this.#buffers.length &&
      this.#offset === this.head.buffers[this.#binary]
    ) {
      this.#binary++;
      this.#offset = 0;
    }
    const target = this.#buffers[this.#binary];
    if (target === undefined || this.#offset + bytes.length > target.length) return false;
    target.set(bytes, this.#offset);
    this.#offset += bytes.length;
    this.#received += bytes.length;
    return true;
  }

  /** The value, once every byte came; undefined if some are missing. */
  value(): { value: unknown } | undefined {
    if (this.#received !== this.#total) return undefined;
    const buffers = this.#buffers.map((b) => b.buffer as ArrayBuffer);
    return { value: restoreWith(this.head.skeleton, (ref) => view(ref, buffers)) };
  }
}
