#!/usr/bin/env node
/** `handout-coordinator [--port 9000] [--host 127.0.0.1] [--path /handout] [--log text|json] [limits]` */
import { parseArgs } from 'node:util';
import { type Coordinator, startCoordinator } from './coordinator.ts';
import { type CoordinatorLimits, DEFAULT_LIMITS } from './limits.ts';
import { type CoordinatorLogEntry, formatJson, formatText } from './log.ts';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const limitNames = Object.keys(DEFAULT_LIMITS) as (keyof CoordinatorLimits)[];

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9000' },
    host: { type: 'string', default: '127.0.0.1' },
    path: { type: 'string', default: '/handout' },
    log: { type: 'string', default: 'text' },
    'trust-proxy': { type: 'boolean', default: false },
    'flush-ms': { type: 'string', default: '25' },
    help: { type: 'boolean', short: 'h', default: false },
    ...Object.fromEntries(limitNames.map((name) => [kebab(name), { type: 'string' as const }])),
  },
});

if (values.help) {
  console.log(
    [
      'usage: handout-coordinator [--port 9000] [--host 127.0.0.1] [--path /handout]',
      '                           [--log text|json] [--trust-proxy] [--flush-ms 25]',
      '',
      'limits (0 turns a count off):',
      ...limitNames.map((name) => {
        const flag = `  --${kebab(name)} N`;
        return `${flag.padEnd(36)}default ${DEFAULT_LIMITS[name]}`;
      }),
      '',
      'GET <path>/health answers with uptime, clients, rooms and dropped counts.',
      'SIGTERM or SIGINT closes every socket with 1001 (going away), then exits.',
    ].join('\n'),
  );
  process.exit(0);
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

const wholeNumber = (flag: string, text: string | undefined): number => {
  const n = Number(text);
  if (text === undefined || !Number.isInteger(n) || n < 0)
    fail(`--${flag} must be a whole number >= 0, got ${text}`);
  return n;
};

const port = wholeNumber('port', values.port);
if (port > 65_535) fail(`--port must be a port number, got ${values.port}`);
if (values.log !== 'text' && values.log !== 'json')
  fail(`--log must be text or json, got ${values.log}`);
const format = values.log === 'json' ? formatJson : formatText;
const write = (entry: CoordinatorLogEntry) =>
  (entry.level === 'info' ? process.stdout : process.stderr).write(`${format(entry)}\n`);

const limits: Record<string, number> = {};
for (const name of limitNames) {
  const text = (values as Record<string, string | boolean | undefined>)[kebab(name)];
  if (typeof text === 'string') limits[name] = wholeNumber(kebab(name), text);
}

let coordinator: Coordinator;
try {
  coordinator = await startCoordinator({
    port,
    host: values.host,
    path: values.path,
    limits,
    trustProxy: values['trust-proxy'],
    membershipFlushMs: wholeNumber('flush-ms', values['flush-ms']),
    // The `listening` entry below says it once, with the URL, for people and scripts alike.
    log: (entry) => (entry.event === 'listening' ? undefined : write(entry)),
  });
} catch (error) {
  fail(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
}
if (values.log === 'json') write({ level: 'info', event: 'listening', url: coordinator.url });
else console.log(`Handout coordinator listening: ${coordinator.url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    write({ level: 'info', event: 'closing', signal });
    void coordinator.close({ graceMs: 2000 }).then(() => process.exit(0));
  });
}
