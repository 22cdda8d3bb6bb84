/**
 * `tsx scripts/install-check.ts handout-0.1.0.tgz`: what a fresh, empty web app gets when it
 * installs the packed package. Prints the packages, megabytes and seconds, and whether any
 * package has an install script (a native build); fails when a Node.js-only package (the
 * coordinator's, the Node.js peer's, SQLite) comes along or anything would run at install.
 * Then, in that app, in Node.js: a local node runs a DAG without any of them, and each Node.js
 * part that needs one fails at once with a MissingPackageError naming its `npm i` line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const NODE_ONLY = [
  'better-sqlite3',
  'node-datachannel',
  'express',
  'peer',
  'ws',
  '@playwright/test',
];

/** Node.js scripts run in the app: what each shows, and what its output must contain. */
const NODE_CHECKS: [string, string, string][] = [
  [
    'a local Node.js node without the optional packages',
    `import { createNode, Dag } from 'handout';
const node = await createNode({ functions: { one: () => 1, inc: (x) => x + 1 } });
const dag = new Dag();
dag.add({ id: 'a', fn: 'one' });
dag.add({ id: 'b', fn: 'inc', args: ['a'] });
console.log('b =', (await node.execute(dag)).results.b);
await node.close();`,
    'b = 2',
  ],
  [
    'joining a room without node-datachannel and ws',
    `import { createNode } from 'handout';
await createNode({ functions: {}, coordinator: 'http://127.0.0.1:9/handout' }).catch((e) =>
  console.log(e.name, e.message));`,
    'MissingPackageError a Node.js node joining a room needs',
  ],
  [
    'createSqliteStore without better-sqlite3',
    `import { createSqliteStore } from 'handout';
try { createSqliteStore('x.db'); } catch (e) { console.log(e.name, e.message); }`,
    'run npm i better-sqlite3',
  ],
  [
    'handout-coordinator without peer, express and ws',
    `import { execFileSync } from 'node:child_process';
try { execFileSync('npx', ['handout-coordinator', '--port', '0'], { stdio: 'pipe' }); }
catch (e) { console.log(String(e.stderr)); }`,
    'run npm i peer express ws',
  ],
];

const tarball = process.argv[2];
if (tarball === undefined || !existsSync(tarball)) {
  console.error('usage: tsx scripts/install-check.ts <handout-x.y.z.tgz>');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'handout-install-'));
try {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'empty-app', private: true, type: 'module' }),
  );
  const started = performance.now();
  execFileSync('npm', ['install', '--no-audit', '--no-fund', resolve(tarball)], {
    cwd: dir,
    stdio: 'pipe',
  });
  const seconds = (performance.now() - started) / 1000;
  const modules = join(dir, 'node_modules');
  const packages = installed(modules);
  const withScripts = packages.filter((p) => {
    const { scripts = {} } = JSON.parse(readFileSync(join(modules, p, 'package.json'), 'utf8'));
    return ['preinstall', 'install', 'postinstall'].some((s) => s in scripts);
  });
  const bytes = Number(execFileSync('du', ['-sb', modules], { encoding: 'utf8' }).split('\t')[0]);
  const unwanted = packages.filter((p) => NODE_ONLY.includes(p));
  console.log(
    `install: ${packages.length} packages (${packages.sort().join(', ')}), ${(bytes / 1e6).toFixed(1)} MB, ${seconds.toFixed(1)} s; install scripts: ${withScripts.length === 0 ? 'none' : withScripts.join(', ')}`,
  );
  if (unwanted.length > 0 || withScripts.length > 0) {
    console.error(`install-check: a web app should not get ${[...unwanted, ...withScripts]}`);
    process.exitCode = 1;
  }
  for (const [what, code, expected] of NODE_CHECKS) {
    const out = run(dir, code);
    const ok = out.includes(expected);
    if (!ok) process.exitCode = 1;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${out.trim().split('\n').pop()}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs an ES module in the app's folder; its output (stdout and stderr). */
function run(cwd: string, code: string): string {
  writeFileSync(join(cwd, 'check.mjs'), code);
  try {
    return execFileSync('node', ['check.mjs'], { cwd, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

/** The package names under node_modules (scoped ones as `@scope/name`). */
function installed(modules: string): string[] {
  return readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@')
        ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`)
        : [name],
    );
}
