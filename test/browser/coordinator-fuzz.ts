// A seeded fuzzer for a coordinator: many clients on both sockets, each sending random frames
// (text and binary, valid JSON of wrong shapes, huge, empty, truncated), as an attacker would.
import { type ChildProcess, spawn } from 'node:child_process';
import { WebSocket } from 'ws';
import { prng } from '../prng.ts';

const SHAPES: unknown[] = [
  null,
  0,
  -1,
  'x',
  true,
  [],
  [1, 2, 3],
  {},
  { type: 'OFFER' },
  { type: 'OFFER', dst: 'victim', payload: null },
  {
    type: 'OFFER',
    dst: 'victim',
    payload: { connectionId: 'c', type: 'data', serialization: '__proto__' },
  },
  { type: 'ANSWER', dst: ['victim'], payload: {} },
  { type: 'CANDIDATE', dst: 'victim', payload: { connectionId: {}, candidate: 5 } },
  { type: 'LEAVE' },
  { type: 'EXPIRE', dst: 'victim' },
  { type: 'OPEN' },
  { type: 'HEARTBEAT', extra: 'x'.repeat(100) },
  { type: 'members', members: [{ id: 'x', session: 's' }] },
  { __proto__: { polluted: true }, type: 'OFFER' },
  {
    type: 'OFFER',
    dst: 'victim',
    payload: {
      connectionId: 'c',
      type: 'data',
      serialization: 'raw',
      sdp: { type: 'offer', sdp: 'v=0' },
    },
  },
];

/** One random frame: text or binary, of one of the kinds an attacker tries. */
export function frame(rand: () => number): string | Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;
  const bytes = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  switch (Math.floor(rand() * 8)) {
    case 0:
      return bytes(Math.floor(rand() * 64));
    case 1:
      return pick(['', '{', '}', '[', 'null', '"', '{"type":', '\u0000', '\ud800']);
    case 2:
      return JSON.stringify(pick(SHAPES));
    case 3: {
      const text = JSON.stringify(pick(SHAPES));
      return text.slice(0, Math.floor(rand() * text.length)); // truncated
    }
    case 4:
      return 'x'.repeat(Math.floor(rand() * 3) === 0 ? 2 << 20 : 20_000); // huge
    case 5:
      return bytes(Math.floor(rand() * 70_000));
    case 6:
      return '{"type":"HEARTBEAT"}';
    default:
      return bytes(1)
        .toString('latin1')
        .repeat(Math.floor(rand() * 200));
  }
}

/** A query string for a socket: usually well formed, sometimes not. */
function query(rand: () => number, n: number): string {
  const id = rand() < 0.8 ? `fuzz-${n}` : pick(rand, ['', 'a b', 'x'.repeat(300), '../..', 'é']);
  const params: Record<string, string> = {
    key: rand() < 0.9 ? 'peerjs' : 'nope',
    id,
    token: rand() < 0.9 ? `t${n}` : '',
    room: rand() < 0.9 ? `fuzz-room-${n % 7}` : 'r'.repeat(1000),
    session: `s${n}`,
  };
  if (rand() < 0.1) delete params[pick(rand, Object.keys(params))];
  return new URLSearchParams(params).toString();
}

const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)] as T;

/** Runs `clients` fuzzing clients, `parallel` at a time; resolves with the frames sent. */
export async function fuzz(
  url: string,
  options: { seed: number; clients: number; parallel: number; framesEach: number },
): Promise<number> {
  const rand = prng(options.seed);
  const base = url.replace(/^http/, 'ws');
  let sent = 0;
  let next = 0;
  /** Opens a socket and sends it random frames; resolves once it is closed. */
  const attack = async (ws: WebSocket, frames: number): Promise<void> => {
    ws.on('error', () => undefined);
    if (ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
    const opened =
      ws.readyState === WebSocket.OPEN ||
      (await Promise.race([
        new Promise<boolean>((resolve) => ws.on('open', () => resolve(true))),
        closed.then(() => false),
      ]));
    if (opened) {
      for (let i = 0; i < frames && ws.readyState === WebSocket.OPEN; i++) {
        const f = frame(rand);
        ws.send(f, { binary: typeof f !== 'string' });
        sent++;
      }
      if (rand() < 0.5) ws.close();
      else ws.terminate();
    }
    await closed;
  };
  const one = async (n: number): Promise<void> => {
    const mode = pick(rand, ['peerjs', 'rooms', 'pair', 'pair', 'elsewhere'] as const);
    if (mode !== 'pair') {
      const path = mode === 'elsewhere' ? pick(rand, ['nope', 'peerjs/x', '']) : mode;
      return attack(new WebSocket(`${base}/${path}?${query(rand, n)}`), options.framesEach);
    }
    // A signalling socket that is let in, then a room seat with its id and token: frames on
    // both, so the room socket's own checks are reached too.
    const q = new URLSearchParams({ key: 'peerjs', id: `pair-${n}`, token: `t${n}` });
    const signalling = new WebSocket(`${base}/peerjs?${q}`);
    const open = new Promise<void>((resolve) => signalling.once('message', () => resolve()));
    signalling.on('error', () => undefined);
    await Promise.race([open, new Promise((r) => signalling.once('close', r))]);
    q.set('room', `fuzz-room-${n % 7}`);
    q.set('session', `s${n}`);
    const seat = attack(new WebSocket(`${base}/rooms?${q}`), options.framesEach);
    await Promise.all([seat, attack(signalling, options.framesEach)]);
  };
  const lane = async () => {
    while (next < options.clients) await one(next++);
  };
  await Promise.all(Array.from({ length: options.parallel }, lane));
  return sent;
}

/**
 * A coordinator in a child process, as `handout-coordinator` runs it (with `--expose-gc`, so
 * `/health?gc` collects first); resolves with its URL. Also used by the `coordinator-load` bench.
 */
export function spawnCoordinator(
  args: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  const cli = new URL('../../src/coordinator/cli.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', cli, '--port', '0', '--log', 'json', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/"event":"listening","url":"(http:[^"]+)"/);
      if (match) resolve({ url: match[1] as string, child });
    });
    child.stderr?.resume();
    child.on('exit', (code) => reject(new Error(`coordinator exited ${code}: ${out}`)));
  });
}
