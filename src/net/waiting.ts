import type { AppMessage } from './link.ts';

interface Queued {
  readonly msg: AppMessage;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Messages for peers without a ready link, in order, until one is up (each send's promise then
 * resolves) or the peer is found gone (each rejects).
 */
export class WaitingMessages {
  readonly #queues = new Map<string, Queued[]>();

  has(peerId: string): boolean {
    return this.#queues.has(peerId);
  }

  add(peerId: string, msg: AppMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.#queues.get(peerId) ?? [];
      this.#queues.set(peerId, queue);
      queue.push({ msg, resolve, reject });
    });
  }

  /** Hands every waiting message to `send`, in order. */
  flush(peerId: string, send: (msg: AppMessage) => void): void {
    const queue = this.#queues.get(peerId) ?? [];
    this.#queues.delete(peerId);
    for (const { msg, resolve, reject } of queue) {
      try {
        send(msg);
        resolve();
      } catch (error) {
        reject(error);
      }
    }
  }

  reject(peerId: string, error: unknown): void {
    const queue = this.#queues.get(peerId) ?? [];
    this.#queues.delete(peerId);
    for (const { reject } of queue) reject(error);
  }

  rejectAll(error: (peerId: string) => unknown): void {
    for (const peerId of [...this.#queues.keys()]) this.reject(peerId, error(peerId));
  }
}
