import { describe, expect, it, vi } from 'vitest';
import { invoke, withContext } from '../../src/runtime/base/functions.ts';
import { FunctionPool, type PoolWorker } from '../../src/runtime/pool/pool.ts';
import type { FromWorker, ToWorker } from '../../src/runtime/pool/pool-protocol.ts';
import { servePool } from '../../src/runtime/pool/pool-serve.ts';
import { rejection } from './helpers.ts';

/** A stand-in for a Web Worker running pool-worker.ts over `module`, asynchronously. */
function fakeWorkers(module: Record<string, unknown>) {
  const made: { terminated: boolean; calls: string[] }[] = [];
  const spawn = (): PoolWorker => {
    const state = { terminated: false, calls: [] as string[] };
    made.push(state);
    const worker: PoolWorker = {
      onmessage: null,
      onerror: null,
      terminate: () => {
        state.terminated = true;
      },
      postMessage(message: ToWorker) {
        const post = (data: FromWorker) =>
          queueMicrotask(() => !state.terminated && worker.onmessage?.({ data }));
        if (message.type === 'load') {
          if (module.crashOnLoad)
            return queueMicrotask(() => worker.onerror?.({ message: 'boom' }));
          return post({ type: 'ready', names: Object.keys(module) });
        }
        if (message.type !== 'call') return;
        state.calls.push(message.name);
        const signal = new AbortController().signal;
        Promise.resolve()
          .then(() =>
            invoke(module[message.name] as never, [...message.args], () => ({
              ...message.context,
              signal,
            })),
          )
          .then(
            (value) => post({ type: 'done', id: message.id, value }),
            (e: Error) =>
              post({
                type: 'error',
                id: message.id,
                name: e.name,
                message: e.message,
                stack: e.stack,
              }),
          );
      },
    };
    return worker;
  };
  return { spawn, made };
}

const context = (signal = new AbortController().signal) => ({
  dagId: 'd',
  taskId: 't',
  nodeId: 'n',
  attempt: 1,
  signal,
});

describe('the function pool', () => {
  it('names the module’s functions and runs calls on at most `size` workers at once', async () => {
    let running = 0;
    let peak = 0;
    const module = {
      slow: async (x: number) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return x * 2;
      },
      where: withContext((ctx, x: number) => `${ctx.taskId}@${ctx.nodeId}:${x}`),
    };
    const { spawn, made } = fakeWorkers(module);
    const pool = await FunctionPool.start('mem://tasks', 3, spawn);
    expect(pool.names).toEqual(['slow', 'where']);
    expect(made).toHaveLength(3);
    const registry = pool.registry();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => invoke(registry.slow as never, [i], () => context())),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(await invoke(registry.where as never, [7], () => context())).toBe('t@n:7');
    pool.close();
  });

  it('keeps a thrown error’s name and message, and replaces a worker that crashed', async () => {
    const module = {
      bad: () => {
        throw new RangeError('no good');
      },
      ok: () => 1,
    };
    const { spawn, made } = fakeWorkers(module);
    const pool = await FunctionPool.start('mem://tasks', 1, spawn);
    const error = await rejection(pool.call('bad', [], context()));
    expect(error).toMatchObject({ name: 'RangeError', message: 'no good' });
    const worker = made[0] as { terminated: boolean };
    expect(worker.terminated).toBe(false);
    expect(await pool.call('ok', [], context())).toBe(1);
    pool.close();
  });

  it('terminates the worker of a cancelled call and starts a fresh one; queued calls just go', async () => {
    const module = { forever: () => new Promise(() => undefined), one: () => 1 };
    const { spawn, made } = fakeWorkers(module);
    const pool = await FunctionPool.start('mem://tasks', 1, spawn);
    const running = new AbortController();
    const queued = new AbortController();
    const first = pool.call('forever', [], context(running.signal));
    const second = pool.call('one', [], context(queued.signal));
    await vi.waitFor(() => expect(made[0]?.calls).toEqual(['forever']));
    queued.abort('not needed');
    expect(await rejection(second)).toBe('not needed');
    running.abort('stop');
    expect(await rejection(first)).toBe('stop');
    expect(made[0]?.terminated).toBe(true);
    expect(made).toHaveLength(2);
    expect(await pool.call('one', [], context())).toBe(1);
    expect(made[1]?.calls).toEqual(['one']);
    pool.close();
  });

  it('fails to start with a clear error when the module cannot load', async () => {
    const { spawn } = fakeWorkers({ crashOnLoad: true });
    const error = await rejection(FunctionPool.start('mem://broken', 2, spawn));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('mem://broken');
  });

  it('runs a worker script that serves its own functions (serveFunctions), whatever URL it is told', async () => {
    const served = {
      double: (x: number) => x * 2,
      version: '1.0',
      default: { half: (x: number) => x / 2 },
    };
    // The real servePool behind an in-memory port, as in a Web Worker running tasks.worker.ts.
    const spawn = (): PoolWorker => {
      let listener: ((message: ToWorker) => void) | undefined;
      const worker: PoolWorker = {
        onmessage: null,
        onerror: null,
        terminate: () => undefined,
        postMessage: (message) => queueMicrotask(() => listener?.(message)),
      };
      servePool(
        {
          post: (data) => queueMicrotask(() => worker.onmessage?.({ data })),
          listen: (l) => {
            listener = l;
          },
        },
        served as never,
      );
      return worker;
    };
    const pool = await FunctionPool.start('the worker factory', 2, spawn);
    expect([...pool.names].sort()).toEqual(['double', 'half']);
    const fns = pool.registry();
    expect(await invoke(fns.double as never, [21], () => context())).toBe(42);
    expect(await invoke(fns.half as never, [21], () => context())).toBe(10.5);
    pool.close();
  });

  it('gives up on a worker that never answers, saying what its script must do', async () => {
    vi.useFakeTimers();
    try {
      const silent: PoolWorker = {
        onmessage: null,
        onerror: null,
        terminate: vi.fn(),
        postMessage: () => undefined,
      };
      const started = rejection(FunctionPool.start('the worker factory', 1, () => silent));
      await vi.advanceTimersByTimeAsync(30_000);
      const error = await started;
      expect(error).toBeInstanceOf(TypeError);
      expect(String(error)).toMatch(
        /did not answer within 30 s \(does its script call serveFunctions\?\)/,
      );
      expect(silent.terminate).toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
