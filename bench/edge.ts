import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Page } from '@playwright/test';
import { type BenchConfig, repeat, type Scenario, summary } from './stats.ts';

/** The transfer scenario between a tab and a Node.js peer (WebRTC via node-datachannel). */
export async function edgeScenarios(
  tab: Page,
  coordinator: string,
  config: BenchConfig,
): Promise<Scenario[]> {
  const mib = config.option('transfer-mib', 64);
  const bytes = mib << 20;
  const room = `edge-${Date.now()}`;
  const sink = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/node-sink.ts', coordinator, room],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const id = await new Promise<string>((resolve, reject) => {
      sink.once('exit', (code) => reject(new Error(`the Node.js peer exited (${code})`)));
      createInterface({ input: sink.stdout }).on('line', (line) => {
        if (line.startsWith('ready ')) resolve(line.slice(6));
      });
    });
    await tab.evaluate(({ c, r }) => window.transfer.handoutJoin(c, r), {
      c: coordinator,
      r: room,
    });
    await tab.evaluate((peer) => window.transfer.handoutWaitFor(peer), id);
    const runs = await repeat(config, `transfer ${mib} MiB tab -> Node.js`, () =>
      tab.evaluate(({ peer, n }) => window.transfer.handoutSend(peer, n), { peer: id, n: bytes }),
    );
    return [
      {
        ...summary(
          'transfer-node',
          'MB/s',
          runs.map((ms) => bytes / 1e6 / (ms / 1000)),
        ),
        anchor: null,
        ratio: null,
        note: `${mib} MiB ArrayBuffer from a tab to a Node.js peer (node-datachannel) through Handout's transport`,
      },
    ];
  } finally {
    sink.kill('SIGTERM');
  }
}
