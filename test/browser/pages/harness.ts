// Loaded by every browser test: puts the library and a fixed function registry on `window`, so
// tests drive real nodes with `page.evaluate` while code itself never crosses any wire.
import * as handout from '../../../src/index.ts';
import { importSecret, roomKey } from '../../../src/net/auth.ts';
import { openLanes } from '../../../src/net/lanes.ts';
import { Link } from '../../../src/net/link.ts';
import type { Mesh } from '../../../src/net/mesh.ts';
import { Rpc } from '../../../src/net/rpc.ts';
import {
  createWebRtcTransport,
  type WebRtcTransportOptions,
} from '../../../src/net/webrtc-transport.ts';
import { Method } from '../../../src/runtime/base/calls.ts';
import { Topic } from '../../../src/runtime/base/messages.ts';
import type { Transport } from '../../../src/testing/memory.ts';
import * as shared from './functions.ts';
import { openStreamGate, streamCounts, streamFunctions } from './stream-functions.ts';

/** Gates tasks wait on in this tab, opened by the test. */
const gates = new Map<string, { promise: Promise<void>; open(): void }>();
function gate(name: string) {
  let entry = gates.get(name);
  if (entry === undefined) {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    entry = { promise, open };
    gates.set(name, entry);
  }
  return entry;
}
/** Task functions of this tab that started and that returned, by name. */
const counts = { started: 0, returned: 0 };

const functions = {
  ...shared,
  ...streamFunctions,
  /** Returns something IndexedDB cannot store. */
  makeFunction: () => () => 1,
  /** `x` after `ms` milliseconds. */
  slow: async (x: unknown, ms: number) => {
    await new Promise((r) => setTimeout(r, ms));
    return x;
  },
  /** `x` once the gate of that name opens in the tab running it; ignores cancellation. */
  held: async (x: unknown, name: string) => {
    counts.started++;
    await gate(name).promise;
    counts.returned++;
    return x;
  },
  fail: handout.withContext((ctx) => {
    throw new RangeError(`always fails (${ctx.taskId} on ${ctx.nodeId})`);
  }),
} satisfies handout.FunctionRegistry;

const nodes = new Map<string, handout.HandoutNode>();
const transports = new Map<string, { transport: Transport; rpc: Rpc }>();

function checksum(buffer: ArrayBuffer): number {
  const words = new Uint32Array(buffer);
  let h = 2166136261;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ (words[i] as number), 16777619);
  return h >>> 0;
}

/**
 * Reads a database's `results` store with the raw IndexedDB API, `empty` when there is none.
 * Reading must not create a database that is not there: its creation is aborted instead.
 */
function readRaw<T>(
  dbName: string,
  empty: T,
  read: (store: IDBObjectStore) => Promise<T>,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(dbName);
    open.onupgradeneeded = () => open.transaction?.abort();
    open.onerror = () => (open.error?.name === 'AbortError' ? resolve(empty) : reject(open.error));
    open.onsuccess = () => {
      const db = open.result;
      const done = db.objectStoreNames.contains('results')
        ? read(db.transaction('results', 'readonly').objectStore('results'))
        : Promise.resolve(empty);
      done.then(resolve, reject).finally(() => db.close());
    };
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

const harness = {
  ...handout,
  functions,
  nodes,
  counts,
  streamCounts,
  openStreamGate,
  open: (name: string) => gate(name).open(),
  /** Runs submitted by tests, by dagId, with how each ended. */
  runs: new Map<string, { handle: handout.RunHandle; outcome: Promise<unknown> }>(),
  /** Submits a DAG built from plain task specs on node `id`, keeping its handle in `runs`. */
  submit(
    id: string,
    dagId: string | undefined,
    tasks: handout.TaskSpec[],
    options: handout.SubmitOptions = {},
  ): string {
    const node = nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    const dag = new handout.Dag(dagId);
    for (const t of tasks) dag.add(t);
    const handle = node.submit(dag, options);
    const outcome = handle.done.then(
      (r) => ({ ok: true as const, ...r }),
      (e: handout.HandoutError & Record<string, unknown>) => ({
        ok: false as const,
        name: e.name,
        code: e.code,
        message: e.message,
        taskId: e.taskId,
        node: e.node,
        attempts: e.attempts,
        cause: e.cause instanceof Error ? { ...e.cause, message: e.cause.message } : e.cause,
      }),
    );
    harness.runs.set(dag.id, { handle, outcome });
    return dag.id;
  },
  /** What a promise gave, as plain data: its value, or its error's code and message. */
  async outcome(
    work: Promise<unknown>,
  ): Promise<{ ok: true; value: unknown } | { ok: false; code: string; message: string }> {
    try {
      return { ok: true, value: await work };
    } catch (e) {
      const error = e as { code?: string; name?: string; message?: string };
      return {
        ok: false,
        code: error?.code ?? error?.name ?? 'error',
        message: String(error?.message ?? e),
      };
    }
  },
  async node(options: Omit<handout.NodeOptions, 'functions'> = {}) {
    const node = await handout.createNode({ functions, ...options });
    nodes.set(node.id, node);
    return node;
  },
  /** A node whose functions (tasks.ts) run in a pool of Web Workers. */
  async poolNode(options: Omit<handout.NodeOptions, 'functions'> = {}) {
    const node = await handout.createNode({
      functions: new URL('./tasks.ts', import.meta.url),
      workers: 2,
      ...options,
    });
    nodes.set(node.id, node);
    return node;
  },
  /** Counts timer ticks on the page's thread until `stop()`: proof the page stayed responsive. */
  ticker(ms: number) {
    const state = { ticks: 0, longestGap: 0, last: performance.now() };
    const timer = setInterval(() => {
      const now = performance.now();
      state.longestGap = Math.max(state.longestGap, now - state.last);
      state.last = now;
      state.ticks++;
    }, ms);
    return { state, stop: () => clearInterval(timer) };
  },
  /** The README's example DAG, seeded so two runs hold different values. */
  exampleDag(id: string | undefined, seed: number) {
    return new handout.Dag(id)
      .add({ id: 'src', fn: 'identity', extraArgs: [seed] })
      .add({ id: 'dbl', fn: 'multiply', args: ['src'], extraArgs: [2] })
      .add({ id: 'out', fn: 'format', args: ['dbl'] });
  },
  /**
   * Every item `[[dagId, dataId], value]` in a database's `results` store, read with the raw
   * IndexedDB API, in key order. Small values of a commit share a bundle record under
   * `[dagId, [stamp, n]]` (`{ ids, values, drops }`); replayed in key order, they win over a
   * record under the item's own key (see src/data/idb-bundles.ts).
   */
  rawResults(dbName: string): Promise<[IDBValidKey, unknown][]> {
    return readRaw(dbName, [], async (store) => {
      const [keys, values] = await Promise.all([
        request(store.getAllKeys()),
        request(store.getAll()),
      ]);
      const own = new Map<string, [IDBValidKey, unknown]>();
      const bundled = new Map<string, [IDBValidKey, unknown]>();
      keys.forEach((key, i) => {
        const [dagId, second] = key as [string, unknown];
        if (typeof second === 'string' && (key as unknown[]).length === 2)
          own.set(JSON.stringify(key), [key, values[i]]);
        if (!Array.isArray(second)) return; // a part of a big value
        const {
          ids,
          values: inside,
          drops,
        } = values[i] as {
          ids: string[];
          values: unknown[];
          drops: string[];
        };
        for (const id of drops) bundled.delete(JSON.stringify([dagId, id]));
        ids.forEach((id, j) => {
          bundled.set(JSON.stringify([dagId, id]), [[dagId, id], inside[j]]);
        });
      });
      const items = new Map([...own, ...bundled]);
      return [...items.values()].sort(([a], [b]) => indexedDB.cmp(a, b));
    });
  },
  /** Every key in a database's `results` store (values stay in the page: they may be huge). */
  rawKeys(dbName: string): Promise<IDBValidKey[]> {
    return readRaw(dbName, [], (store) => request(store.getAllKeys()));
  },
  /** A result read with `result()` on node `id`, checked here (a big value never leaves the page). */
  async checkedResult(id: string, dagId: string, taskId: string) {
    const node = nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return shared.checkFloats((await node.result(dagId, taskId)) as Float64Array);
  },
  /** A raw transport with RPC on top, for tests of the net layer itself. */
  async transport(options: WebRtcTransportOptions) {
    const transport = await createWebRtcTransport(options);
    const rpc = new Rpc(transport, 120_000);
    transports.set(transport.id, { transport, rpc });
    return transport.id;
  },
  transports,
  /**
   * A rogue that learned a room's coordinator key (but not its secret) dials `target` directly
   * and runs the handshake with a wrong secret. Resolves with what it got out of it.
   */
  async rogueDial(
    coordinator: string,
    target: string,
    room: string,
    realSecret: string,
    via: 'webrtc' | 'same-browser' = 'webrtc',
  ) {
    const mesh = (await createWebRtcTransport({ coordinator, room: 'rogue-corner' })) as Mesh;
    const leakedRoom = await roomKey(room, await importSecret(realSecret));
    const wrongSecret = await importSecret('a guess');
    // Over the lane, the rogue even joins this browser's broker under the leaked room key.
    const lanes =
      via === 'same-browser'
        ? await openLanes({ room: leakedRoom, id: mesh.id, session: 'rogue', sameBrowser: true })
        : undefined;
    const channel = lanes ? await lanes.dial(target) : await mesh.connector.dial(target);
    if (channel === undefined) throw new Error('the broker did not hand out a lane');
    const outcome = { ready: false, capabilities: null as unknown, closed: '' };
    await new Promise<void>((resolve) => {
      setTimeout(() => {
        outcome.closed ||= 'still open after 15 s';
        resolve();
      }, 15_000);
      new Link(
        channel,
        target,
        {
          selfId: mesh.id,
          session: 'rogue',
          room: leakedRoom,
          capabilities: { cpu: 64 },
          secret: wrongSecret,
        },
        {
          ready: (capabilities) => {
            outcome.ready = true;
            outcome.capabilities = capabilities;
          },
          message: () => undefined,
          dropped: () => undefined,
          closed: (reason) => {
            outcome.closed = reason;
            resolve();
          },
        },
      );
    });
    lanes?.close();
    await mesh.close();
    return { ...outcome, lane: channel.lane };
  },
  /**
   * A rogue raw transport `id` (in the room, so past the handshake) sends every peer junk:
   * malformed bodies on every runtime topic, wrong-version and unknown messages, requests for
   * made-up DAGs; and raw random bytes down fresh channels that never shook hands.
   */
  async spam(id: string, rounds: number) {
    const entry = transports.get(id);
    if (entry === undefined) throw new Error(`no transport ${id}`);
    const { transport, rpc } = entry;
    const junk = [null, 42, 'x', [1, 2], { dagId: 5 }, { deep: [[[{}]]] }, new Uint8Array(100)];
    const answers: string[] = [];
    let sent = 0;
    for (let round = 0; round < rounds; round++) {
      for (const { id: peer } of transport.peers()) {
        for (const topic of Object.values(Topic)) {
          for (const body of junk) {
            await rpc.notify(peer, topic, body);
            sent++;
          }
        }
        for (const bad of [
          { v: 99, t: 'msg', topic: 'x', body: 1 },
          { v: 1, t: 'exec', code: 'alert(1)' },
        ])
          await transport.send(peer, bad as never).catch(() => undefined);
        await rpc
          .request(peer, Method.get, { dagId: `made-up-${round}`, dataId: 'x' })
          .catch((e: { remoteCode?: string }) => answers.push(e.remoteCode ?? 'none'));
        const channel = await (transport as Mesh).connector.dial(peer);
        for (let i = 0; i < 5; i++) channel.send(crypto.getRandomValues(new Uint8Array(64)));
        channel.close();
      }
    }
    return { sent, answers };
  },
  /** Resolves once node `id` has completed its handshake with every one of `peers`. */
  waitForIds(id: string, peers: string[]): Promise<void> {
    const node = nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return new Promise((resolve) => {
      const check = () => {
        const seen = new Set(node.peers().map((p) => p.id));
        if (peers.every((p) => seen.has(p))) {
          off();
          resolve();
        }
      };
      const off = node.on('peer:join', check);
      check();
    });
  },
  /** Resolves once `count` peers completed their handshake with node `id`. */
  waitForPeers(id: string, count: number): Promise<string[]> {
    // What a node and a bare transport share.
    const node:
      | {
          peers(): handout.PeerInfo[];
          on(event: 'peer:join', listener: () => void): () => void;
        }
      | undefined = nodes.get(id) ?? transports.get(id)?.transport;
    if (node === undefined) throw new Error(`no node ${id}`);
    return new Promise((resolve) => {
      const check = () => {
        const peers = node
          .peers()
          .map((p) => p.id)
          .sort();
        if (peers.length >= count) resolve(peers);
      };
      node.on('peer:join', check);
      check();
    });
  },
  /** A deterministic buffer and its checksum (FNV-1a over 32-bit words). */
  makeBuffer(bytes: number): { buffer: ArrayBuffer; sum: number } {
    const words = new Uint32Array(bytes / 4);
    let x = 2463534242;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    return { buffer: words.buffer, sum: checksum(words.buffer) };
  },
  checksum,
  async databases(): Promise<string[]> {
    return (await indexedDB.databases()).map((db) => db.name ?? '').sort();
  },
};

declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.getElementById('status')?.replaceChildren('ready');
