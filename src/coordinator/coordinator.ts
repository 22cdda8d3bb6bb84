import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { missingPackage } from '../missing-package.ts';
import { CloseCode } from '../net/close-codes.ts';
import { type CoordinatorHealth, Counters } from './health.ts';
import { type CoordinatorLimits, resolveLimits } from './limits.ts';
import { type CoordinatorLog, LogGate } from './log.ts';
import { Rooms } from './rooms.ts';
import { Sockets } from './sockets.ts';

/** Options of {@link startCoordinator}. */
export interface CoordinatorOptions {
  /** @default 9000; 0 picks a free port */
  readonly port?: number | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** Where it is mounted: signalling at `<path>/peerjs`, rooms at `<path>/rooms`, `<path>/health`. @default '/handout' */
  readonly path?: string | undefined;
  /** What one client may cost; see {@link CoordinatorLimits} for each default. */
  readonly limits?: CoordinatorLimits | undefined;
  /**
   * Behind a reverse proxy: count connections per address by the first `X-Forwarded-For`
   * entry rather than the proxy's own address. Only where the proxy sets that header.
   * @default false
   */
  readonly trustProxy?: boolean | undefined;
  /** How long room joins and leaves gather before members hear them, in ms. @default 25 */
  readonly membershipFlushMs?: number | undefined;
  /** Receives one structured entry per event (joins, leaves, refused clients, faults). @default none */
  readonly log?: CoordinatorLog | undefined;
}

export interface Coordinator {
  /** What nodes pass as `coordinator`, e.g. `http://127.0.0.1:9000/handout`. */
  readonly url: string;
  readonly port: number;
  /** Room name -> member ids. */
  rooms(): Record<string, string[]>;
  /** What `GET <path>/health` answers. */
  health(): CoordinatorHealth;
  /**
   * Stops: every socket is closed with 1001 "going away" (so nodes reconnect, elsewhere if a
   * proxy sends them there) and, after `graceMs`, cut.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** The PeerJS key nodes use; Handout does not rely on it for security (see the swarm secret). */
export const PEERJS_KEY = 'peerjs';

/**
 * Starts the signalling coordinator: the PeerJS server for WebRTC signalling, plus room
 * membership. It carries no task data: peers exchange that over their own data channels. No
 * input ends it: each socket's messages are checked before PeerJS sees them, each client is
 * held to its {@link CoordinatorLimits}, and a failing handler closes only its own client.
 *
 * @example
 * const coordinator = await startCoordinator({ port: 9000, limits: { maxConnectionsPerAddress: 64 } });
 * console.log(coordinator.url); // http://127.0.0.1:9000/handout
 */
export async function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const { express, ExpressPeerServer, ws } = await serverPackages();
  const host = options.host ?? '127.0.0.1';
  const path = `/${(options.path ?? '/handout').replace(/^\/+|\/+$/g, '')}`;
  const limits = resolveLimits(options.limits);
  const log: CoordinatorLog = options.log ?? (() => undefined);
  const gate = new LogGate(log);
  const counters = new Counters();
  const rooms = new Rooms({
    flushMs: options.membershipFlushMs ?? 25,
    maxSeatsPerId: limits.maxSeatsPerId,
    log: (event, room, id) => log({ level: 'info', event, room, peer: id }),
  });
  const tokens = new Map<string, string>();
  let closing = false;
  let stopping: Promise<void> | undefined;

  const app = express();
  app.disable('x-powered-by');
  const server: Server = createServer(app);
  let signallingServer: WebSocketServer | undefined;
  const sockets = new Sockets({
    limits,
    rooms,
    counters,
    gate,
    signalling: () => signallingServer,
    tokens,
    addressOf: (request) => addressOf(request, options.trustProxy ?? false),
  });
  const health = (): CoordinatorHealth => {
    const memory = process.memoryUsage();
    return {
      status: closing ? 'closing' : 'ok',
      uptimeMs: Date.now() - counters.started,
      clients: {
        signalling: sockets.signallingOpen.size,
        rooms: sockets.roomOpen.size,
        addresses: sockets.addresses,
      },
      ...rooms.size,
      messages: {
        signalling: counters.signalling,
        largestSignal: counters.largestSignal,
        rooms: rooms.sent.messages,
        roomBatches: rooms.sent.flushes,
      },
      dropped: { total: counters.droppedTotal, ...counters.dropped },
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
    };
  };

  const peerApp = ExpressPeerServer(server, {
    path: '/',
    key: PEERJS_KEY,
    allow_discovery: false,
    alive_timeout: limits.aliveTimeoutMs,
    concurrent_limit: limits.maxClients === 0 ? Number.MAX_SAFE_INTEGER : limits.maxClients,
    // Upgrades are routed by hand below; PeerJS only ever sees guarded sockets.
    createWebSocketServer: () => {
      signallingServer = new ws.WebSocketServer({
        noServer: true,
        maxPayload: limits.maxSignalBytes * 2 + 1024,
      });
      return signallingServer;
    },
  } as Parameters<typeof ExpressPeerServer>[1]);
  peerApp.on('connection', (client: { getId(): string; getToken(): string }) => {
    tokens.set(client.getId(), client.getToken());
  });
  peerApp.on('disconnect', (client: { getId(): string }) => {
    tokens.delete(client.getId());
    rooms.evict(client.getId());
  });
  // PeerJS reports socket and parse errors here; with nothing listening, one would end us.
  peerApp.on('error', (error: unknown) => sockets.fault({ socket: 'signalling' }, error));

  app.get(`${path}/health`, (request, response) => {
    // `?gc` collects garbage first, where the process runs with --expose-gc (for tests).
    if ('gc' in request.query) (globalThis as { gc?: () => void }).gc?.();
    response.set('cache-control', 'no-store').json(health());
  });
  app.use(path, peerApp);

  const roomServer = new ws.WebSocketServer({
    noServer: true,
    maxPayload: limits.maxRoomMessageBytes,
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      const pathname = new URL(request.url ?? '', 'http://x').pathname;
      const kind =
        pathname === `${path}/rooms`
          ? 'rooms'
          : pathname === `${path}/peerjs`
            ? 'signalling'
            : undefined;
      const target = kind === 'rooms' ? roomServer : signallingServer;
      if (kind === undefined || target === undefined || closing) {
        socket.destroy();
        return;
      }
      target.handleUpgrade(request, socket, head, (ws) => sockets.accept(kind, ws, request));
    } catch (error) {
      sockets.fault({ socket: 'upgrade' }, error);
      socket.destroy();
    }
  });
  server.on('clientError', (_error: Error, socket: Duplex) => {
    counters.drop('http-error');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => sockets.fault({ socket: 'http' }, error));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  log({ level: 'info', event: 'listening', url, limits });
  return {
    url,
    port,
    rooms: () => rooms.snapshot(),
    health,
    close: ({ graceMs = 1000 } = {}) => {
      stopping ??= (async () => {
        closing = true;
        rooms.close();
        sockets.close(CloseCode.goingAway, 'coordinator shutting down');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const grace = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        });
        await Promise.race([sockets.drained(), grace]);
        clearTimeout(timer);
        sockets.terminate();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        log({ level: 'info', event: 'shutdown' });
      })();
      return stopping;
    },
  };
}

/** The client's address; behind a trusted proxy, the first hop it names. */
function addressOf(request: IncomingMessage, trustProxy: boolean): string {
  const forwarded = request.headers['x-forwarded-for'];
  if (trustProxy && typeof forwarded === 'string') {
    const first = forwarded.split(',')[0]?.trim();
    if (first) return first;
  }
  return request.socket.remoteAddress ?? 'unknown';
}

export type { CoordinatorHealth, DropKind } from './health.ts';
export type { CoordinatorLimits } from './limits.ts';
export { DEFAULT_LIMITS } from './limits.ts';
export type { CoordinatorLog, CoordinatorLogEntry } from './log.ts';
export { formatJson, formatText } from './log.ts';

/**
 * The server's packages, loaded when a coordinator starts: they are optional peer dependencies
 * of `handout` (a web app never installs them), so a missing one is named with its `npm i` line.
 */
async function serverPackages() {
  const [{ default: express }, { ExpressPeerServer }, ws] = await Promise.all([
    import('express'),
    import('peer'),
    import('ws'),
  ]).catch(missingPackage(['peer', 'express', 'ws'], 'the Handout coordinator'));
  return { express, ExpressPeerServer, ws };
}
