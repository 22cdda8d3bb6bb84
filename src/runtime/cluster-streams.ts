import type { Plan } from '../dag/index.ts';
import type { Rpc } from '../net/rpc.ts';
import type { Resources } from '../resources.ts';
import { call, serve } from './base/calls.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { Pipeline, StreamOptions } from './base/pipeline-api.ts';
import {
  parsePipelineId,
  parseStageCalls,
  parseStageResults,
  STAGE_CLOSED,
  type StageCalls,
  StreamTopic,
} from './base/stream-messages.ts';
import type { LoadBook } from './run/load-book.ts';
import type { PipelineRun, StageHost } from './stream.ts';

type Engine = typeof import('./stream.ts');

/** How long a stage's `init` may take on its peer (loading a model, say) before it fails. */
const OPEN_TIMEOUT_MS = 300_000;

export interface ClusterStreamsOptions {
  readonly id: string;
  readonly rpc: Rpc;
  readonly functions: FunctionRegistry;
  readonly book: LoadBook;
  /** Holds a hosted stage's cost on this node's task runner (see `StageHostPorts.hold`). */
  hold(cost: Resources, held: boolean): void;
  /** Reports a body that failed its checks. */
  malformed(from: string, error: unknown): void;
}

/**
 * A room node's pipelines: those it orchestrates and the stages it hosts for any orchestrator.
 * The engine loads on first use (a `stream` here, or a stage opened here by a peer).
 */
export class ClusterStreams {
  readonly pipelines = new Map<string, PipelineRun>();
  #engine: Promise<Engine> | undefined;
  #host: StageHost | undefined;
  readonly #off: (() => void)[];

  constructor(readonly options: ClusterStreamsOptions) {
    const { rpc } = options;
    const guarded =
      <T>(parse: (body: unknown) => T, handle: (from: string, body: T) => void) =>
      ({ from, body }: { from: string; body: unknown }) => {
        let parsed: T;
        try {
          parsed = parse(body);
        } catch (error) {
          options.malformed(from, error);
          return;
        }
        handle(from, parsed);
      };
    this.#off = [
      serve(rpc, 'stream.open', async (body, from) => (await this.#hostNow()).open(from, body)),
      rpc.onNotify(
        StreamTopic.calls,
        guarded(parseStageCalls, (from, body) => this.accept(from, body)),
      ),
      rpc.onNotify(
        StreamTopic.results,
        guarded(parseStageResults, (from, body) =>
          this.pipelines.get(body.p)?.onResults(from, body),
        ),
      ),
      rpc.onNotify(
        StreamTopic.close,
        guarded(parsePipelineId, (from, p) => this.#host?.close(from, p)),
      ),
    ];
  }

  /** Starts a pipeline orchestrated here. */
  async start(id: string, dagId: string, plan: Plan, options: StreamOptions): Promise<Pipeline> {
    const engine = await this.#load();
    const host = await this.#hostNow();
    const { self, book, rpc } = { self: this.options.id, ...this.options };
    const placement = new engine.GroupPlacement(
      engine.stagePlan(plan),
      { holders: new Map(), bytes: new Map() },
      options.allocation,
    );
    const run: PipelineRun = new engine.PipelineRun(id, dagId, plan, options, placement, {
      self,
      peers: () => book.peers(),
      open: (peer, body) =>
        peer === self
          ? host.open(self, body)
          : call(rpc, peer, 'stream.open', body, { timeoutMs: OPEN_TIMEOUT_MS }),
      send: (peer, body) =>
        peer === self ? host.accept(self, body) : this.#notify(peer, StreamTopic.calls, body),
      close: (peer, p) =>
        peer === self ? host.close(self, p) : this.#notify(peer, StreamTopic.close, { p }),
      claim: (peer, cost) => book.claim(peer, cost),
      release: (peer, cost) => book.release(peer, cost),
      ended: () => this.pipelines.delete(id),
    });
    if (run.stats().state !== 'failed') this.pipelines.set(id, run);
    return run;
  }

  /** Items for stages here; with no stage open here (the engine not even loaded), refused. */
  accept(from: string, body: StageCalls): void {
    if (this.#host !== undefined) return this.#host.accept(from, body);
    const out = body.calls.map((c) => ({
      s: c.s,
      i: c.i,
      a: c.a,
      e: { code: STAGE_CLOSED, message: `no stage is open on ${this.options.id}` },
    }));
    this.#notify(from, StreamTopic.results, { p: body.p, out });
  }

  /** The stages hosted here, by pipeline. */
  hosted(): Record<string, string[]> {
    return this.#host?.hosted() ?? {};
  }

  onPeerLeave(peer: string): void {
    this.#host?.forget(peer);
    for (const run of this.pipelines.values()) run.onPeerLeave(peer);
  }

  pumpAll(): void {
    for (const run of this.pipelines.values()) run.pump();
  }

  close(): void {
    for (const off of this.#off) off();
    for (const run of [...this.pipelines.values()]) void run.stop();
    this.#host?.closeAll();
  }

  #notify(peer: string, topic: string, body: unknown): void {
    void this.options.rpc.notify(peer, topic, body).catch(() => undefined);
  }

  #load(): Promise<Engine> {
    this.#engine ??= import('./stream.ts');
    return this.#engine;
  }

  async #hostNow(): Promise<StageHost> {
    const engine = await this.#load();
    this.#host ??= new engine.StageHost({
      id: this.options.id,
      functions: this.options.functions,
      hold: (cost, held) => this.options.hold(cost, held),
      send: (to, body) =>
        to === this.options.id
          ? this.pipelines.get(body.p)?.onResults(to, body)
          : this.#notify(to, StreamTopic.results, body),
    });
    return this.#host;
  }
}
