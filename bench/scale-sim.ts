// Rooms bigger than one machine holds tabs, simulated: Node.js nodes on the in-memory transport
// (real protocol, framing and handshakes; every message delayed), one orchestrator placing and
// dispatching a DAG of independent trivial tasks over 10, 100 and 1,000 peers. What grows with
// the peers is measured as the orchestrator's own time per task: its placement and dispatch
// (`pump`) and its handling of reports (`onReport`), timed around those calls, beside the whole
// process's CPU per task (every simulated peer runs in this process too).
import { createMemoryStore, createNode, Dag, type HandoutNode } from '../src/node/index.ts';
import { Orchestrator } from '../src/runtime/run/orchestrator.ts';
import { MemoryHub } from '../src/testing/memory.ts';

export interface SimulatedRoom {
  readonly peers: number;
  readonly tasks: number;
  /** Wall time of the run. */
  readonly ms: number;
  /** The orchestrator's time in placement, dispatch and reports, per task. */
  readonly orchestratorUsPerTask: number;
  /** The whole process's CPU (all peers), per task. */
  readonly cpuUsPerTask: number;
  /** Links the orchestrator opened: one per peer it used. */
  readonly links: number;
  /** Peers that ran at least one task. */
  readonly used: number;
}

const functions = { one: () => 1 };

/** Times every call of `Orchestrator.prototype[name]`, adding to `spent.ms`. */
function timed(spent: { ms: number }): () => void {
  const proto = Orchestrator.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals = (['pump', 'onReport'] as const).map((name) => {
    const original = proto[name] as (...a: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        spent.ms += performance.now() - started;
      }
    };
    return [name, original] as const;
  });
  return () => {
    for (const [name, original] of originals) proto[name] = original;
  };
}

export async function simulateRoom(
  peers: number,
  tasks: number,
  delayMs: number,
): Promise<SimulatedRoom> {
  const hub = new MemoryHub();
  hub.setDelay(() => delayMs);
  const nodes: HandoutNode[] = [];
  const join = async (id: string) => {
    const transport = await hub.join({ id, room: 'sim', capabilities: { cpu: 4 } });
    nodes.push(
      await createNode({
        functions,
        transport,
        capabilities: { cpu: 4 },
        store: createMemoryStore(),
      }),
    );
  };
  // The orchestrator sorts first; its peers are numbered after it.
  await join('a-orchestrator');
  for (let i = 0; i < peers; i++) await join(`p${String(i).padStart(5, '0')}`);
  const orchestrator = nodes[0] as HandoutNode;
  const dag = new Dag();
  for (let i = 0; i < tasks; i++) dag.add({ id: `t${i}`, fn: 'one' });
  const spent = { ms: 0 };
  const restore = timed(spent);
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const { allocations } = await orchestrator.execute(dag, { collect: 'none' });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      peers,
      tasks,
      ms,
      orchestratorUsPerTask: (spent.ms * 1000) / tasks,
      cpuUsPerTask: (used.user + used.system) / tasks,
      links: orchestrator.links().open,
      used: new Set(Object.values(allocations)).size,
    };
  } finally {
    restore();
    await Promise.all(nodes.map((n) => n.close()));
  }
}

// `node --import tsx bench/scale-sim.ts [peers...]`: one size at a time, printed.
if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length > 0 ? sizes : [10, 100, 1000]) {
    console.log(await simulateRoom(n, 100_000, 1));
  }
  process.exit(0);
}
