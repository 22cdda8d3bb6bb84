import type { Plan } from '../dag/index.ts';
import type { Emitter } from '../emitter.ts';
import type { Rpc } from '../net/rpc.ts';
import type { DroppedMessage } from '../net/transport.ts';
import type { Resources } from '../resources.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { Pipeline, StreamOptions } from './base/pipeline-api.ts';
import type { LoadBook } from './run/load-book.ts';
import type { RoomStreams } from './stream-room.ts';

/** What the pipelines of a room node use of it (its `Cluster`). */
export interface StreamsNode {
  readonly options: { readonly id: string; readonly functions: FunctionRegistry };
  readonly rpc: Rpc;
  readonly book: LoadBook;
  /** Holds a hosted stage's cost while it is open (see `StageHostPorts.hold`). */
  readonly runner: { hold(cost: Resources, held: boolean): void };
  /** Hears of bodies that failed their checks. */
  readonly dropped: Emitter<{ dropped: Omit<DroppedMessage, 'total'> }>;
}

/** What pipelines say between peers besides the `stream.open` request (see `StreamTopic`). */
const TOPICS = ['stream.calls', 'stream.results', 'stream.close'] as const;

/**
 * A room node's pipelines, as the room's engine sees them: it listens for them from the start,
 * and loads their engine ({@link RoomStreams}) when a pipeline starts here or a peer opens a
 * stage here. A page that never meets a pipeline never loads it.
 */
export class ClusterStreams {
  #engine: Promise<RoomStreams> | undefined;
  #loaded: RoomStreams | undefined;
  readonly #off: (() => void)[];

  constructor(readonly node: StreamsNode) {
    const { rpc } = node;
    this.#off = [
      rpc.handle('stream.open', async (body, from) => (await this.#load()).open(from, body)),
      ...TOPICS.map((topic) =>
        // In order: once loaded, every message waits the same single turn.
        rpc.onNotify(topic, ({ from, body }) => {
          this.#load().then(
            (engine) => engine.hear(topic, from, body),
            () => undefined,
          );
        }),
      ),
    ];
  }

  /** Starts a pipeline orchestrated here (its shape and options are checked there). */
  async start(id: string, dagId: string, plan: Plan, options: StreamOptions): Promise<Pipeline> {
    return (await this.#load()).start(id, dagId, plan, options);
  }

  /** The stages hosted here, by pipeline. */
  hosted(): Record<string, string[]> {
    return this.#loaded?.hosted() ?? {};
  }

  onPeerLeave(peer: string): void {
    this.#loaded?.onPeerLeave(peer);
  }

  pumpAll(): void {
    this.#loaded?.pumpAll();
  }

  close(): void {
    for (const off of this.#off) off();
    this.#loaded?.close();
  }

  #load(): Promise<RoomStreams> {
    this.#engine ??= import('./stream-room.ts').then((m) => {
      this.#loaded = new m.RoomStreams(this.node);
      return this.#loaded;
    });
    return this.#engine;
  }
}
