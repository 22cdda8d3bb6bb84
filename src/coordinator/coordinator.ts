import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import { ExpressPeerServer } from 'peer';
import { type WebSocket, WebSocketServer } from 'ws';
import { PEER_ID } from '../net/protocol.ts';
import { type RoomLog, Rooms } from './rooms.ts';

/** Options of {@link startCoordinator}. */
export interface CoordinatorOptions {
  /** @default 9000; 0 picks a free port */
  readonly port?: number | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** Where it is mounted: signalling at `<path>/peerjs`, rooms at `<path>/rooms`. @default '/handout' */
  readonly path?: string | undefined;
  /** Called for every join and leave. @default none */
  readonly log?: RoomLog | undefined;
}

export interface Coordinator {
  /** What nodes pass as `coordinator`, e.g. `http://127.0.0.1:9000/handout`. */
  readonly url: string;
  readonly port: number;
  /** Room name -> member ids. */
  rooms(): Record<string, string[]>;
  close(): Promise<void>;
}

/** The PeerJS key nodes use; Handout does not rely on it for security (see the swarm secret). */
export const PEERJS_KEY = 'peerjs';
const NAME_MAX = 256;

/**
 * Starts the signalling coordinator: the PeerJS server for WebRTC signalling, plus room
 * membership. It carries no task data: peers exchange that over their own data channels.
 *
 * @example
 * const coordinator = await startCoordinator({ port: 9000 });
 * console.log(coordinator.url); // http://127.0.0.1:9000/handout
 */
export async function startCoordinator(options: CoordinatorOptions = {}): Promise<Coordinator> {
  const host = options.host ?? '127.0.0.1';
  const path = `/${(options.path ?? '/handout').replace(/^\/+|\/+$/g, '')}`;
  const rooms = new Rooms(options.log);
  const tokens = new Map<string, string>();

  const app = express();
  const server: Server = createServer(app);
  let signalling: WebSocketServer | undefined;
  const peerApp = ExpressPeerServer(server, {
    path: '/',
    key: PEERJS_KEY,
    allow_discovery: false,
    alive_timeout: 20_000,
    // Both WebSocket servers share one HTTP server, so upgrades are routed by hand below.
    createWebSocketServer: (wsOptions: { path: string }) => {
      signalling = new WebSocketServer({ noServer: true, path: wsOptions.path });
      return signalling;
    },
  } as Parameters<typeof ExpressPeerServer>[1]);
  peerApp.on('connection', (client: { getId(): string; getToken(): string }) => {
    tokens.set(client.getId(), client.getToken());
  });
  peerApp.on('disconnect', (client: { getId(): string }) => {
    tokens.delete(client.getId());
    rooms.evict(client.getId());
  });
  app.use(path, peerApp);

  const roomServer = new WebSocketServer({ noServer: true });
  roomServer.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    const query = new URL(request.url ?? '', 'http://x').searchParams;
    const id = query.get('id') ?? '';
    const room = query.get('room') ?? '';
    const session = query.get('session') ?? '';
    if (!PEER_ID.test(id) || !isName(room) || !isName(session)) {
      socket.close(4400, 'id, room and session are required');
      return;
    }
    // Only the holder of the signalling connection for this id may sit in rooms as it.
    if (tokens.get(id) !== query.get('token')) {
      socket.close(4401, 'no signalling connection with this id and token');
      return;
    }
    rooms.join(room, id, session, socket);
    socket.on('close', () => rooms.leave(room, id, socket));
    socket.on('error', () => socket.terminate());
    socket.on('message', () => undefined); // members only listen
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(request.url ?? '', 'http://x').pathname;
    const target =
      pathname === `${path}/rooms`
        ? roomServer
        : pathname === `${path}/peerjs`
          ? signalling
          : undefined;
    if (target === undefined) {
      socket.destroy();
      return;
    }
    target.handleUpgrade(request, socket, head, (ws) => target.emit('connection', ws, request));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 9000, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}${path}`,
    port,
    rooms: () => rooms.snapshot(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of roomServer.clients) ws.terminate();
        for (const ws of signalling?.clients ?? []) ws.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function isName(value: string): boolean {
  return value.length > 0 && value.length <= NAME_MAX;
}
