#!/usr/bin/env node
/**
 * `handout-worker --coordinator http://127.0.0.1:9000/handout --room demo --functions ./tasks.js
 * [--cpu 8] [--id name] [--secret s] [--store ./worker.db]`: a Node.js process joins a room as a
 * worker, runs the exported functions of the module, and logs each task it runs. Ctrl-C leaves.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createNode, createSqliteStore, type FunctionRegistry, withContext } from './index.ts';

const usage =
  'usage: handout-worker --coordinator URL --functions MODULE [--room demo] [--cpu N] [--id ID] [--secret S] [--store FILE.db]';
const { values } = parseArgs({
  options: {
    coordinator: { type: 'string' },
    room: { type: 'string', default: 'demo' },
    functions: { type: 'string' },
    cpu: { type: 'string' },
    id: { type: 'string' },
    secret: { type: 'string' },
    store: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help || values.coordinator === undefined || values.functions === undefined) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}
const cpu = values.cpu === undefined ? undefined : Number(values.cpu);
if (cpu !== undefined && !(Number.isFinite(cpu) && cpu > 0)) {
  console.error(`--cpu must be a positive number, got ${values.cpu}`);
  process.exit(2);
}

const time = () => new Date().toISOString().slice(11, 23);
const log = (line: string) => console.log(`${time()} ${line}`);

/** The module's exported functions, each wrapped to log the tasks it runs. */
async function loadFunctions(path: string): Promise<FunctionRegistry> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const exported = { ...module, ...((module.default ?? {}) as Record<string, unknown>) };
  const registry: Record<string, FunctionRegistry[string]> = {};
  for (const [name, fn] of Object.entries(exported)) {
    if (typeof fn !== 'function') continue;
    const wantsContext =
      (fn as unknown as Record<symbol, unknown>)[Symbol.for('handout.wantsContext')] === true;
    registry[name] = withContext(async (ctx, ...args: unknown[]) => {
      const started = performance.now();
      try {
        const value = await (wantsContext ? fn(ctx, ...args) : fn(...args));
        log(
          `ran  ${ctx.dagId}/${ctx.taskId} (${name}) in ${(performance.now() - started).toFixed(1)} ms`,
        );
        return value;
      } catch (error) {
        log(`FAIL ${ctx.dagId}/${ctx.taskId} (${name}): ${String(error)}`);
        throw error;
      }
    });
  }
  return registry;
}

const functions = await loadFunctions(values.functions);
const node = await createNode({
  functions,
  coordinator: values.coordinator,
  room: values.room,
  id: values.id,
  secret: values.secret,
  store: values.store === undefined ? 'memory' : createSqliteStore(values.store),
  capabilities: cpu === undefined ? undefined : { cpu },
});
log(`worker ${node.id} in room ${values.room} with ${Object.keys(functions).join(', ')}`);
node.on('peer:join', (p) => log(`peer joined: ${p.id}`));
node.on('peer:leave', (p) => log(`peer left: ${p.id} (${p.reason})`));
node.on('coordinator:down', () => log('coordinator lost; peers stay connected'));
node.on('coordinator:up', () => log('coordinator back'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log('leaving the room');
    void node.close().then(() => process.exit(0));
  });
}
