#!/usr/bin/env node
/**
 * `handout-worker --coordinator http://127.0.0.1:9000/handout --room demo --functions ./tasks.js
 * [--workers 4] [--cpu 8] [--id name] [--secret s] [--store ./worker.db]`: a Node.js process joins
 * a room as a worker, runs the exported functions of the module in a pool of worker threads (one
 * per core unless `--workers` says; `--workers 0` runs them on the main thread), and logs each
 * task it runs. Ctrl-C leaves.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { functionsOf } from '../runtime/base/functions.ts';
import { createNode, createSqliteStore } from './index.ts';

const usage =
  'usage: handout-worker --coordinator URL --functions MODULE [--room demo] [--workers N] [--cpu N] [--id ID] [--secret S] [--store FILE.db]';
const { values } = parseArgs({
  options: {
    coordinator: { type: 'string' },
    room: { type: 'string', default: 'demo' },
    functions: { type: 'string' },
    workers: { type: 'string' },
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
const workers = values.workers === undefined ? undefined : Number(values.workers);
if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) {
  console.error(`--workers must be a whole number >= 0, got ${values.workers}`);
  process.exit(2);
}

const time = () => new Date().toISOString().slice(11, 23);
const log = (line: string) => console.log(`${time()} ${line}`);

const moduleUrl = pathToFileURL(resolve(values.functions));
const node = await createNode({
  // --workers 0: the module's functions on this thread.
  functions: workers === 0 ? functionsOf(await import(moduleUrl.href)) : moduleUrl,
  workers,
  coordinator: values.coordinator,
  room: values.room,
  id: values.id,
  secret: values.secret,
  store: values.store === undefined ? 'memory' : createSqliteStore(values.store),
  capabilities: cpu === undefined ? undefined : { cpu },
});
const threads = workers === 0 ? 'the main thread' : `${workers ?? 'one per core'} worker threads`;
log(`worker ${node.id} in room ${values.room}, functions on ${threads}`);
node.on('task:ran', (t) => {
  const ms = t.ms.toFixed(1);
  if (t.error === undefined) log(`ran  ${t.dagId}/${t.taskId} (${t.fn}) in ${ms} ms`);
  else log(`FAIL ${t.dagId}/${t.taskId} (${t.fn}) after ${ms} ms: ${t.error}`);
});
node.on('peer:join', (p) => log(`peer joined: ${p.id}`));
node.on('peer:leave', (p) => log(`peer left: ${p.id} (${p.reason})`));
const stopHearingDown = node.on('coordinator:down', () =>
  log('coordinator lost; peers stay connected'),
);
node.on('coordinator:up', () => log('coordinator back'));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log('leaving the room');
    stopHearingDown(); // leaving closes the coordinator's socket: not news
    void node.close().then(() => process.exit(0));
  });
}
