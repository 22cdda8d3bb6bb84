#!/usr/bin/env node
/** `handout-coordinator --port 9000 --host 127.0.0.1 [--path /handout]` */
import { parseArgs } from 'node:util';
import { startCoordinator } from './coordinator.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9000' },
    host: { type: 'string', default: '127.0.0.1' },
    path: { type: 'string', default: '/handout' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('usage: handout-coordinator [--port 9000] [--host 127.0.0.1] [--path /handout]');
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}

const time = () => new Date().toISOString().slice(11, 23);
const coordinator = await startCoordinator({
  port,
  host: values.host,
  path: values.path,
  log: (event, room, id) => console.log(`${time()} ${event.padEnd(5)} room=${room} peer=${id}`),
});
console.log(`Handout coordinator listening: ${coordinator.url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log('closing');
    void coordinator.close().then(() => process.exit(0));
  });
}
