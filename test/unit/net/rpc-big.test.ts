import { afterEach, describe, expect, it } from 'vitest';
import { RemoteError, RequestTimeoutError } from '../../../src/errors.ts';
import { MemoryHub } from '../../../src/net/memory-transport.ts';
import type { Mesh } from '../../../src/net/mesh.ts';
import { Rpc } from '../../../src/net/rpc.ts';

const meshes: Mesh[] = [];
afterEach(async () => {
  await Promise.all(meshes.splice(0).map((m) => m.close()));
});

/** Peer `a` asks peer `b`, whose answers reach it 300 ms after they leave. */
async function pair(timeoutMs: number, maxMessageBytes?: number) {
  const hub = new MemoryHub();
  const framing = maxMessageBytes === undefined ? {} : { framing: { maxMessageBytes } };
  const a = await hub.join({ id: 'a', ...framing });
  const b = await hub.join({ id: 'b', ...framing });
  meshes.push(a, b);
  // The link opens on first use: open it now, so the deadlines below time the request only.
  await a.send('b', { v: 1, t: 'msg', topic: 'open', body: null });
  hub.setDelay((from) => (from === 'b' ? 300 : 0));
  const server = new Rpc(b);
  // 32 MiB go in waves of 4 MiB (the framing's high water), 300 ms apart: 2.4 s in all. A
  // 1 s timeout leaves a loaded machine 700 ms between waves, and cuts a plain deadline.
  server.handle('big', () => new Uint8Array(32 << 20).fill(7));
  server.handle('never', () => new Promise(() => undefined));
  return new Rpc(a, timeoutMs);
}

describe('a request for a big value', () => {
  it('takes as long as its bytes keep coming when idle, and is cut by a plain deadline', async () => {
    const rpc = await pair(1000);
    const value = (await rpc.request('b', 'big', null, { idle: true })) as Uint8Array;
    expect(value.length).toBe(32 << 20);
    expect(value[value.length - 1]).toBe(7);
    await expect(rpc.request('b', 'big', null)).rejects.toBeInstanceOf(RequestTimeoutError);
  });

  it('fails once nothing has come for its timeout, idle or not', async () => {
    const rpc = await pair(1000);
    const error = await rpc.request('b', 'never', null, { idle: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ peerId: 'b', method: 'never' });
  });
});

describe('a value larger than one message may carry', () => {
  it('fails at once with a typed error from the peer, not a timeout', async () => {
    const rpc = await pair(30_000, 8 << 20);
    const error = await rpc.request('b', 'big', null, { idle: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ remoteCode: 'CodecError' });
    expect(String(error)).toMatch(/message of 32\.0 MiB is larger than the 8\.0 MiB/);
  });
});
