import type { Attachment, Streamed } from './streamed.ts';

/**
 * One large message on its way out (see `framing.ts`): its segments (head, then attachments) and
 * a cursor over them. Bytes at hand are read where they are; a streamed attachment's chunks are
 * pulled one at a time, when the writer asks for bytes it does not have yet.
 */
export class Outgoing {
  started = false;
  /** Why it cannot go on (its source failed, or gave the wrong bytes): the writer drops it. */
  failed: unknown;
  #segment = 0;
  #offset = 0;
  #chunk: Uint8Array | undefined;
  #chunkAt = 0;
  #iterator: AsyncIterator<Uint8Array> | undefined;
  #pulling = false;

  constructor(
    readonly id: number,
    readonly segments: readonly Attachment[],
    /** Called when a pulled chunk came (or the pull failed): the writer pumps again. */
    readonly onReady: () => void,
  ) {
    this.#skipEmpty();
  }

  get sizes(): number[] {
    return this.segments.map((s) => s.byteLength);
  }

  get done(): boolean {
    return this.#segment >= this.segments.length;
  }

  /** Bytes not sent yet. */
  get remaining(): number {
    let bytes = -this.#offset;
    for (let i = this.#segment; i < this.segments.length; i++)
      bytes += (this.segments[i] as Attachment).byteLength;
    return Math.max(0, bytes);
  }

  /**
   * The bytes ready now at the cursor (a view, not a copy); undefined while a streamed chunk is
   * on its way (`onReady` says when it came).
   */
  available(): Uint8Array | undefined {
    const segment = this.segments[this.#segment];
    if (segment === undefined || this.failed !== undefined) return undefined;
    if (segment instanceof Uint8Array) return segment.subarray(this.#offset);
    if (this.#chunk !== undefined) return this.#chunk.subarray(this.#chunkAt);
    this.#pull(segment);
    return undefined;
  }

  /** Up to `limit` bytes that are ready now, across segments, without pulling anything. */
  ready(limit: number): number {
    if (this.failed !== undefined) return 0;
    let bytes = 0;
    for (let i = this.#segment; i < this.segments.length && bytes < limit; i++) {
      const segment = this.segments[i] as Attachment;
      const at = i === this.#segment ? this.#offset : 0;
      if (segment instanceof Uint8Array) bytes += segment.length - at;
      else {
        if (i === this.#segment && this.#chunk !== undefined)
          bytes += this.#chunk.length - this.#chunkAt;
        break;
      }
    }
    return Math.min(bytes, limit);
  }

  /** `n` bytes of what `available` gave went out. */
  advance(n: number): void {
    this.#offset += n;
    if (this.#chunk !== undefined) {
      this.#chunkAt += n;
      if (this.#chunkAt >= this.#chunk.length) {
        this.#chunk = undefined;
        this.#chunkAt = 0;
      }
    }
    this.#skipEmpty();
  }

  /** Stops pulling: the message will not be sent (closed, or failed). */
  cancel(): void {
    void this.#iterator?.return?.()?.catch(() => undefined);
    this.#iterator = undefined;
  }

  #pull(segment: Streamed): void {
    if (this.#pulling) return;
    this.#pulling = true;
    this.#iterator ??= segment.chunks[Symbol.asyncIterator]();
    this.#iterator.next().then(
      (result) => {
        this.#pulling = false;
        const left = segment.byteLength - this.#offset;
        if (result.done === true || result.value.byteLength > left) {
          this.#fail(
            new Error(`a streamed binary gave other than its ${segment.byteLength} bytes`),
          );
        } else if (result.value.byteLength > 0) {
          this.#chunk = result.value;
          this.#chunkAt = 0;
        }
        this.onReady();
      },
      (error: unknown) => {
        this.#pulling = false;
        this.#fail(error);
        this.onReady();
      },
    );
  }

  #fail(error: unknown): void {
    this.failed = error;
    this.cancel();
  }

  #skipEmpty(): void {
    while (
      this.#segment < this.segments.length &&
      this.#offset >= (this.segments[this.#segment] as Attachment).byteLength
    ) {
      if (!(this.segments[this.#segment] instanceof Uint8Array)) this.cancel(); // its source is spent
      this.#segment++;
      this.#offset = 0;
    }
  }
}
