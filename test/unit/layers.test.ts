import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The import rules of ARCHITECTURE.md: layers import downward only, and the two libraries that
// touch the outside world are each imported from one place.
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const RANK: Record<string, number> = {
  'errors.ts': 0,
  'missing-package.ts': 0.5,
  'page.ts': 0,
  'emitter.ts': 0,
  'next-task.ts': 0,
  'resources.ts': 0,
  dag: 1,
  data: 1,
  net: 1,
  schedule: 2,
  // Inside the runtime: its shared words, then its parts (which never import each other),
  // then the node that wires them together (the files of runtime/ itself).
  'runtime/base': 3,
  'runtime/run': 3.5,
  'runtime/work': 3.5,
  'runtime/serve': 3.5,
  'runtime/pool': 3.5,
  runtime: 3.9,
  'common.ts': 4,
  coordinator: 4,
  'index.ts': 5,
  'worker.ts': 5,
  testing: 5,
  node: 5,
};
const MAY_IMPORT: Record<string, RegExp> = {
  'idb-keyval': /^data\/idb-store\.ts$/,
  'better-sqlite3': /^data\/sqlite-store\.ts$/,
  'node-datachannel/polyfill': /^node\/globals\.ts$/,
  ws: /^(node\/globals|coordinator\/[^/]+)\.ts$/,
  '@playwright/test': /^testing\/playwright\.ts$/,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * The modules a file imports: every one (types included) for the layer rules; with `eager`,
 * only what loads with the file (no type-only imports, no dynamic imports).
 */
function imports(file: string, eager = false): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = [
    ...text.matchAll(/^\s*(import|export)(\s+type\b)?[^'"]*?from\s+['"]([^'"]+)['"]/gm),
  ];
  return [
    ...statics.filter((m) => !(eager && m[2] !== undefined)).map((m) => m[3] as string),
    ...[...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1] as string),
    // Dynamic imports (loaded later, but part of what an entry can load).
    ...(eager ? [] : [...text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)]).map(
      (m) => m[1] as string,
    ),
  ];
}

/** A top folder of src/ (or file), or a sub-folder of src/runtime: each a layer of its own. */
function layerOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'runtime' && parts.length > 2 ? `runtime/${parts[1]}` : (parts[0] as string);
}

describe('layers', () => {
  const files = sourceFiles(SRC).map((file) => relative(SRC, file));

  it('finds the source tree', () => {
    expect(files).toContain('index.ts');
    expect(files).toContain('data/idb-store.ts');
  });

  it('gives every folder a rank, so a new one is placed on purpose', () => {
    expect([...new Set(files.map(layerOf))].filter((layer) => RANK[layer] === undefined)).toEqual(
      [],
    );
  });

  it.each(files)('%s imports only from layers below it', (file) => {
    const layer = layerOf(file);
    for (const spec of imports(join(SRC, file))) {
      if (!spec.startsWith('.')) continue;
      const target = layerOf(relative(SRC, resolve(SRC, dirname(file), spec)));
      if (target === layer) continue;
      expect(RANK[target], `${file} imports ${spec}`).toBeLessThan(RANK[layer] as number);
    }
  });

  it.each(Object.entries(MAY_IMPORT))('only the allowed files import %s', (pkg, allowed) => {
    for (const file of files) {
      if (imports(join(SRC, file)).includes(pkg)) expect(file).toMatch(allowed);
    }
  });

  /** The source files an entry point loads, and the packages they import. */
  function reachedFrom(
    entry: string,
    eager = false,
  ): { files: Set<string>; packages: Set<string> } {
    const reached = { files: new Set<string>(), packages: new Set<string>() };
    const visit = (file: string) => {
      if (reached.files.has(file)) return;
      reached.files.add(file);
      for (const spec of imports(join(SRC, file), eager)) {
        if (spec.startsWith('.')) visit(relative(SRC, resolve(SRC, dirname(file), spec)));
        else reached.packages.add(spec);
      }
    };
    visit(entry);
    return reached;
  }

  it('keeps Node.js-only code out of what the browser entry loads', () => {
    const { files, packages } = reachedFrom('index.ts');
    expect(
      [...packages].filter((p) => /^(node:|ws$|better-sqlite3|node-datachannel)/.test(p)),
    ).toEqual([]);
    expect([...files].filter((f) => f.startsWith('node/') || f === 'data/sqlite-store.ts')).toEqual(
      [],
    );
    expect(files.size).toBeGreaterThan(30);
  });

  it('loads the swarm layer and the function pool only when a node needs them (dynamic imports)', () => {
    const eager = reachedFrom('index.ts', true);
    expect([...eager.packages]).toEqual(['idb-keyval']);
    for (const file of ['net/webrtc-transport.ts', 'net/mesh.ts', 'runtime/cluster.ts'])
      expect(eager.files).not.toContain(file);
    expect(eager.files).not.toContain('runtime/pool/pool.ts');
    const all = reachedFrom('index.ts');
    expect(all.files).toContain('runtime/cluster.ts');
    expect([...all.packages]).toEqual(['idb-keyval']);
  });

  it('keeps the in-memory swarm out of the main entry, in handout/testing/memory, which loads no runtime', () => {
    expect(reachedFrom('index.ts').files).not.toContain('net/memory-transport.ts');
    const { files, packages } = reachedFrom('testing/memory.ts');
    expect(files).toContain('net/memory-transport.ts');
    expect([...packages]).toEqual([]);
    expect([...files].filter((f) => f.startsWith('runtime/'))).toEqual([]);
  });

  it('keeps the worker entry (handout/worker) light: no PeerJS, no IndexedDB, no runtime at large', () => {
    const { files, packages } = reachedFrom('worker.ts');
    expect([...packages]).toEqual([]);
    expect([...files].sort()).toEqual([
      'runtime/base/functions.ts',
      'runtime/pool/pool-protocol.ts',
      'runtime/pool/pool-serve.ts',
      'worker.ts',
    ]);
  });

  it('keeps IndexedDB and Web Worker code out of what the Node.js entry loads', () => {
    const { files, packages } = reachedFrom('node/index.ts');
    expect([...packages].filter((p) => p === 'idb-keyval')).toEqual([]);
    expect(
      [...files].filter((f) =>
        /^(index\.ts|data\/idb-|runtime\/(browser-platform|pool\/pool-worker))/.test(f),
      ),
    ).toEqual([]);
    expect(files).toContain('runtime/create-node.ts');
    expect(packages).toContain('node-datachannel/polyfill');
  });

  it('keeps the coordinator out of browser code', () => {
    // handout/testing's fixtures run in Node.js beside Playwright and start a coordinator.
    const nodeSide = (f: string) =>
      layerOf(f) === 'coordinator' || /^testing\/(index|playwright)\.ts$/.test(f);
    for (const file of files.filter((f) => !nodeSide(f))) {
      for (const spec of imports(join(SRC, file))) expect(spec).not.toContain('coordinator');
    }
  });
});
