// coordinator-load: many clients joining rooms of one coordinator process at once, as plain
// WebSocket clients (signalling socket first, then the room socket, as nodes do). Measures the
// time until every client has seen its whole room, the room messages the coordinator sent, and
// its peak RSS (VmHWM, from /proc).
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { spawnCoordinator } from '../test/browser/coordinator-fuzz.ts';
import { type BenchConfig, deadline, progress, round, type Scenario, summary } from './stats.ts';

interface Load {
  ms: number;
  messages: number;
  batches: number;
  peakRssMiB: number;
}

const peakRss = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : Number.NaN;
};

/** `clients` clients spread over `rooms` rooms join a fresh coordinator at once. */
async function load(clients: number, rooms: number): Promise<Load> {
  const { url, child } = await spawnCoordinator([
    '--max-connections-per-address',
    '0', // every client comes from 127.0.0.1
    '--max-clients',
    '0',
  ]);
  const base = url.replace(/^http/, 'ws');
  const sockets: WebSocket[] = [];
  try {
    const started = performance.now();
    let complete = 0;
    const everyone = new Promise<void>((resolve, reject) => {
      for (let i = 0; i < clients; i++) {
        const id = `load-${i}`;
        const room = `room-${i % rooms}`;
        const inRoom = countIn(i % rooms, clients, rooms);
        const q = new URLSearchParams({ key: 'peerjs', id, token: `t${i}` });
        const signalling = new WebSocket(`${base}/peerjs?${q}`);
        sockets.push(signalling);
        signalling.on('error', reject);
        signalling.once('message', () => {
          q.set('room', room);
          q.set('session', `s${i}`);
          const seat = new WebSocket(`${base}/rooms?${q}`);
          sockets.push(seat);
          seat.on('error', reject);
          const seen = new Set<string>();
          let done = false;
          seat.on('message', (data) => {
            const m = JSON.parse(data.toString());
            if (m.type === 'members') {
              seen.clear();
              for (const member of m.members) seen.add(member.id);
            } else {
              for (const e of m.events) e.type === 'join' ? seen.add(e.id) : seen.delete(e.id);
            }
            if (!done && seen.size === inRoom) {
              done = true;
              if (++complete === clients) resolve();
            }
          });
        });
      }
    });
    await deadline(everyone, 120_000, `${clients} clients joining ${rooms} rooms`);
    const ms = performance.now() - started;
    const health = await (await fetch(`${url}/health`)).json();
    return {
      ms,
      messages: health.messages.rooms,
      batches: health.messages.roomBatches,
      peakRssMiB: peakRss(child.pid as number),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    child.kill('SIGKILL');
  }
}

/** Members of room `r` when `clients` are dealt round-robin over `rooms`. */
const countIn = (r: number, clients: number, rooms: number) =>
  Math.floor(clients / rooms) + (r < clients % rooms ? 1 : 0);

export async function coordinatorScenarios(config: BenchConfig): Promise<Scenario[]> {
  const cases = [
    { name: 'coordinator-load-1-room', clients: config.option('load-one-room', 1000), rooms: 1 },
    {
      name: 'coordinator-load-100-rooms',
      clients: config.option('load-clients', 5000),
      rooms: config.option('load-rooms', 100),
    },
  ];
  const rows: Scenario[] = [];
  for (const c of cases) {
    const runs: Load[] = [];
    for (let i = 0; i < config.warmup + config.runs; i++) {
      progress(`${c.name}: ${c.clients} clients, run ${i + 1} of ${config.warmup + config.runs}`);
      const measured = await load(c.clients, c.rooms);
      if (i >= config.warmup) runs.push(measured);
    }
    const last = runs.at(-1) as Load;
    const naive = (c.clients * (c.clients / c.rooms + 1)) / 2; // one message per join per member
    rows.push({
      ...summary(
        c.name,
        'ms',
        runs.map((r) => r.ms),
      ),
      anchor: null,
      ratio: null,
      ...(c.clients >= 5000 ? { target: '< 10,000 ms, peak RSS < 300 MiB' } : {}),
      note: `${c.clients} clients in ${c.rooms} room(s) joining at once, until each has seen its whole room; ${last.messages} room messages in ${last.batches} batches (${round(last.messages / c.clients)} per client; one per join would be ${naive}); coordinator peak RSS ${round(Math.max(...runs.map((r) => r.peakRssMiB)))} MiB`,
    });
  }
  return rows;
}
