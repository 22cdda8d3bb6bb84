/**
 * `npm run size`: what each way of using Handout costs a web app, in gzipped bytes of JavaScript,
 * measured on real bundles. A small app per case is built with Vite (minified, as an app's
 * production build is) from the built package in dist/, as an app that installed it would, and
 * the chunks its page loads are summed. Fails when a case is over its budget. Run `npm run build`
 * first.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

interface Case {
  readonly name: string;
  readonly what: string;
  readonly code: string;
  /** Which lazily loaded chunks the page also loads: those holding a module matching this. */
  readonly lazy?: RegExp;
  /** The budget this case is held to, in bytes gzipped. */
  readonly budget: number;
}

const dag = `const dag = new Dag();
dag.add({ id: 'a', fn: 'one' });
dag.add({ id: 'b', fn: 'inc', args: ['a'] });
const functions = { one: () => 1, inc: (x) => x + 1 };`;

const CASES: Case[] = [
  {
    name: 'local',
    what: 'a page that runs a DAG on a local node (IndexedDB)',
    code: `import { createNode, Dag } from '${dist}/handout.js';
${dag}
const node = await createNode({ functions });
console.log(await node.execute(dag));`,
    // 15 kB until bundles of small values in IndexedDB (1.2 kB: 2x dispatch, 26x local-idb);
    // 16 kB until big values were written to the store as they arrive (BENCHMARKS.md); 17 kB
    // until one engine (3.2 kB: a node alone runs the room's run, its task table, recovery and
    // end, and keeps its runs in the room's run book, in place of an engine of its own).
    budget: 20_500,
  },
  {
    name: 'room',
    what: 'a page that joins a room (WebRTC, signalling, mesh, the room engine)',
    code: `import { createNode, Dag } from '${dist}/handout.js';
${dag}
const node = await createNode({ functions, coordinator: location.origin + '/handout' });
console.log(await node.execute(dag));`,
    lazy: /\/room-[^/]*\.js$/,
    // 45 kB until bundles of small values in IndexedDB (see above); 46 kB until a link's
    // handshake, heartbeat and dials became units of their own; 46.5 kB until big values crossed
    // as offers of parts (BENCHMARKS.md, "Installing and embedding"); 49 kB until one engine
    // (0.3 kB: the run split from the room's way to its peers); 50 kB until a lane's large
    // values came into buffers a helper Worker made ready (0.5 kB, BENCHMARKS.md).
    budget: 50_500,
  },
  {
    name: 'worker',
    what: "handout/worker in a pool worker's script",
    code: `import { serveFunctions } from '${dist}/worker.js';
serveFunctions({ inc: (x) => x + 1 });`,
    budget: 3_000,
  },
];

interface Chunk {
  readonly type: 'chunk';
  readonly fileName: string;
  readonly code: string;
  readonly isEntry: boolean;
  readonly imports: readonly string[];
  readonly dynamicImports: readonly string[];
  readonly moduleIds: readonly string[];
}

async function measure(c: Case, dir: string): Promise<{ bytes: number; files: string[] }> {
  const entry = join(dir, `${c.name}.js`);
  writeFileSync(entry, c.code);
  const out = (await build({
    configFile: false,
    logLevel: 'silent',
    root: dir,
    build: { write: false, modulePreload: false, rollupOptions: { input: entry } },
  })) as { output: (Chunk | { type: 'asset'; fileName: string })[] };
  const chunks = new Map(
    out.output.filter((o): o is Chunk => o.type === 'chunk').map((o) => [o.fileName, o]),
  );
  const loaded = new Set<string>();
  const load = (name: string) => {
    const chunk = chunks.get(name);
    if (chunk === undefined || loaded.has(name)) return;
    loaded.add(name);
    for (const next of chunk.imports) load(next);
    for (const next of chunk.dynamicImports) {
      const lazy = chunks.get(next);
      // A dynamic import may land on a facade chunk (no modules of its own, importing the real
      // one): its file name says which it is.
      const wanted = lazy?.moduleIds.some((id) => c.lazy?.test(id)) || c.lazy?.test(`/${next}`);
      if (c.lazy !== undefined && wanted) load(next);
    }
  };
  for (const chunk of chunks.values()) if (chunk.isEntry) load(chunk.fileName);
  let bytes = 0;
  for (const name of loaded) bytes += gzipSync((chunks.get(name) as Chunk).code).length;
  return { bytes, files: [...loaded] };
}

if (!existsSync(join(dist, 'handout.js'))) {
  console.error('size: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const dir = mkdtempSync(join(root, 'node_modules', '.size-'));
let over = 0;
try {
  const kB = (n: number) => `${(n / 1000).toFixed(1)} kB`;
  for (const c of CASES) {
    const { bytes, files } = await measure(c, dir);
    const ok = bytes <= c.budget;
    if (!ok) over++;
    console.log(
      `${ok ? 'ok  ' : 'OVER'} ${c.name.padEnd(7)} ${kB(bytes).padStart(8)} gzipped (budget ${kB(c.budget)}) ${c.what}; ${files.length} chunk(s)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (over > 0) {
  console.error(`size: ${over} case(s) over budget`);
  process.exit(1);
}
