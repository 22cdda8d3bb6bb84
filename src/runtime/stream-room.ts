import type { Plan } from '../dag/index.ts';
import type { Pipeline, StreamOptions } from './base/pipeline-api.ts';
import { checkPipelinePlan, checkStreamOptions, stagePlan } from './base/pipeline-checks.ts';
import {
  parsePipelineId,
  parseStageCalls,
  parseStageOpen,
  parseStageResults,
  StreamTopic,
} from './base/stream-messages.ts';
import type { StreamsNode } from './cluster-streams.ts';
import { GroupPlacement } from './run/group-placement.ts';
import { PipelineRun } from './run/pipeline.ts';
import { StageHost } from './work/stage-host.ts';

/** How long a stage's `init` may take on its peer (loading a model, say) before it fails. */
const OPEN_TIMEOUT_MS = 300_000;

/**
 * The pipelines of a room node, once loaded: those it orchestrates and the stages it hosts for
 * any orchestrator. Every body from a peer is checked here; one that fails is reported as
 * dropped and nothing in it runs.
 */
export class RoomStreams {
  readonly pipelines = new Map<string, PipelineRun>();
  readonly host: StageHost;

  constructor(readonly node: StreamsNode) {
    const self = node.options.id;
    this.host = new StageHost({
      id: self,
      functions: node.options.functions,
      hold: (cost, held) => node.runner.hold(cost, held),
      send: (to, body) =>
        to === self
          ? this.pipelines.get(body.p)?.onResults(to, body)
          : this.#notify(to, StreamTopic.results, body),
    });
  }

  /** A peer asks this node to host a stage: resolves once its `init` ran. */
  async open(from: string, body: unknown): Promise<boolean> {
    const stage = parseStageOpen(body);
    const open = await this.host.open(from, stage);
    // Its orchestrator left while the init ran: nobody will close it, so it goes now.
    if (!this.node.book.has(from)) this.host.close(from, stage.p);
    return open;
  }

  /** A pipeline message from a peer. */
  hear(topic: (typeof StreamTopic)[keyof typeof StreamTopic], from: string, body: unknown): void {
    try {
      if (topic === StreamTopic.calls) this.host.accept(from, parseStageCalls(body));
      else if (topic === StreamTopic.close) this.host.close(from, parsePipelineId(body));
      else {
        const results = parseStageResults(body);
        this.pipelines.get(results.p)?.onResults(from, results);
      }
    } catch (error) {
      this.node.dropped.emit('dropped', { from, reason: 'malformed', detail: String(error) });
    }
  }

  /** Starts a pipeline orchestrated here. */
  start(id: string, dagId: string, plan: Plan, options: StreamOptions): Pipeline {
    checkStreamOptions(options);
    checkPipelinePlan(plan);
    const { book, rpc } = this.node;
    const self = this.node.options.id;
    const noData = { holders: new Map(), bytes: new Map() };
    const placement = new GroupPlacement(stagePlan(plan), noData, options.allocation);
    const run = new PipelineRun(id, dagId, plan, options, placement, {
      self,
      peers: () => book.peers(),
      open: (peer, body) =>
        peer === self
          ? this.host.open(self, body)
          : rpc
              .request(peer, 'stream.open', body, { timeoutMs: OPEN_TIMEOUT_MS })
              .then((open) => open === true),
      send: (peer, body) =>
        peer === self ? this.host.accept(self, body) : this.#notify(peer, StreamTopic.calls, body),
      close: (peer, p) =>
        peer === self ? this.host.close(self, p) : this.#notify(peer, StreamTopic.close, { p }),
      claim: (peer, cost) => book.claim(peer, cost),
      release: (peer, cost) => book.release(peer, cost),
      ended: () => this.pipelines.delete(id),
    });
    if (run.stats().state !== 'failed') this.pipelines.set(id, run);
    return run;
  }

  hosted(): Record<string, string[]> {
    return this.host.hosted();
  }

  onPeerLeave(peer: string): void {
    this.host.forget(peer);
    for (const run of this.pipelines.values()) run.onPeerLeave(peer);
  }

  pumpAll(): void {
    for (const run of this.pipelines.values()) run.pump();
  }

  close(): void {
    for (const run of [...this.pipelines.values()]) void run.stop();
    this.host.closeAll();
  }

  #notify(peer: string, topic: string, body: unknown): void {
    void this.node.rpc.notify(peer, topic, body).catch(() => undefined);
  }
}
