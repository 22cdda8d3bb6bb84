// `npm start`: the coordinator and the demo page, from one command.
import { createServer } from 'vite';
import { startCoordinator } from '../src/coordinator/coordinator.ts';
import { formatText } from '../src/coordinator/log.ts';

const coordinatorPort = Number(process.env.HANDOUT_COORDINATOR_PORT ?? 9000);
const demoPort = Number(process.env.HANDOUT_DEMO_PORT ?? 5173);
const coordinator = await startCoordinator({
  port: coordinatorPort,
  log: (entry) => {
    if (entry.event !== 'listening') console.log(formatText(entry));
  },
});
const vite = await createServer({
  configFile: new URL('../vite.config.ts', import.meta.url).pathname,
  server: { port: demoPort, strictPort: false },
  define: { 'import.meta.env.VITE_HANDOUT_COORDINATOR': JSON.stringify(coordinator.url) },
});
await vite.listen();
const url = vite.resolvedUrls?.local[0] ?? `http://127.0.0.1:${demoPort}/`;
console.log(`\nHandout coordinator: ${coordinator.url}`);
console.log(`Demo: open ${url} in several tabs (add ?room=name for a separate swarm)\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([vite.close(), coordinator.close()]).then(() => process.exit(0));
  });
}
