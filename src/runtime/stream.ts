import type { Plan } from '../dag/index.ts';
import type { FunctionRegistry } from './base/functions.ts';
import type { StreamOptions } from './base/pipeline-api.ts';
import { checkPipelinePlan, checkStreamOptions, stagePlan } from './base/pipeline-checks.ts';
import { PipelineRun, type StagePlacer } from './run/pipeline.ts';
import { StageHost } from './work/stage-host.ts';

// Pipelines' engine, loaded only by a node that streams or hosts a stage.
export { GroupPlacement } from './run/group-placement.ts';
export { PipelineRun, StageHost };

/** A pipeline on a lone node: every stage hosted here, items handed over without a wire. */
export function startLocal(
  id: string,
  dagId: string,
  plan: Plan,
  options: StreamOptions,
  node: { readonly id: string; readonly functions: FunctionRegistry },
  checkPlacement: (stages: Plan) => void,
): PipelineRun {
  checkStreamOptions(options);
  checkPipelinePlan(plan);
  checkPlacement(stagePlan(plan));
  let run: PipelineRun | undefined;
  const host = new StageHost({
    id: node.id,
    functions: node.functions,
    send: (_to, body) => run?.onResults(node.id, body),
  });
  const me = { id: node.id, capabilities: {}, used: {}, tasks: 0 };
  const here: StagePlacer = {
    allocateAll: () => undefined,
    decide: () => ({ kind: 'peer', peer: node.id }),
    forget: () => undefined,
  };
  run = new PipelineRun(id, dagId, plan, options, here, {
    self: node.id,
    peers: () => ({ get: () => me, idlest: () => me, all: () => [me] }),
    open: (_peer, body) => host.open(node.id, body),
    send: (_peer, body) => host.accept(node.id, body),
    close: (_peer, p) => host.close(node.id, p),
    claim: () => undefined,
    release: () => undefined,
    ended: () => undefined,
  });
  return run;
}
