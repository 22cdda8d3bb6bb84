import type { Pipeline, PipelineStats, PushOptions, StreamItem } from './base/pipeline-api.ts';

/**
 * The pipeline `stream` hands out at once, while the engine's module loads (a page that never
 * streams never loads it). Every call waits for the engine, then goes to it.
 */
export class LazyPipeline implements Pipeline {
  readonly ready: Promise<void>;
  #engine: Pipeline | undefined;
  readonly #ended: () => void;

  constructor(
    readonly id: string,
    readonly engine: Promise<Pipeline>,
    /** Called once it stopped or failed. */
    ended: () => void,
  ) {
    engine.then(
      (e) => {
        this.#engine = e;
      },
      () => undefined,
    );
    this.ready = engine.then((e) => e.ready);
    this.ready.catch(ended); // read through push or the items too
    this.#ended = ended;
  }

  async push(value: unknown, options?: PushOptions): Promise<number> {
    return (await this.engine).push(value, options);
  }

  results(): AsyncIterableIterator<StreamItem> {
    const iterator: AsyncIterableIterator<StreamItem> = {
      next: async () => (await this.engine).results().next(),
      return: async () => {
        await this.stop();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    return this.results();
  }

  async stop(options?: { readonly drain?: boolean | undefined }): Promise<void> {
    try {
      // A pipeline that failed before its engine ran (its checks) has nothing to stop.
      const engine = await this.engine.catch(() => undefined);
      await engine?.stop(options);
    } finally {
      this.#ended();
    }
  }

  stats(): PipelineStats {
    const starting = { state: 'starting' as const, pushed: 0, done: 0, failed: 0, inFlight: 0 };
    return this.#engine?.stats() ?? { ...starting, stages: {} };
  }
}
