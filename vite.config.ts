import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * The library's worker scripts (the pool's Web Worker, the lanes' SharedWorker) must stay
 * visible to the app's bundler, which bundles them only where it sees the plain
 * `new Worker(new URL('./x.js', import.meta.url))`. Vite's library build writes
 * `new URL(/* @vite-ignore *\/ new URL('assets/x.js', import.meta.url).href, import.meta.url)`
 * instead, which an app's Vite skips: its production build then ships no worker and the URL
 * points nowhere. This puts the plain form back (newlines kept, so source maps still line up).
 */
function workerUrlsForApps(): Plugin {
  const pattern =
    /new URL\(\s*\/\* @vite-ignore \*\/\s*new URL\("(assets\/[^"]+\.js)", import\.meta\.url\)\.href,\s*"" \+ import\.meta\.url\s*\)/g;
  return {
    name: 'handout:worker-urls-for-apps',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        chunk.code = chunk.code.replace(pattern, (match, file: string) => {
          const newlines = '\n'.repeat(match.split('\n').length - 1);
          return `new URL(${newlines}"./${file}", import.meta.url)`;
        });
      }
    },
  };
}

// `vite` serves the demo page (demo/); `vite build` builds the library (src/index.ts -> dist/).
export default defineConfig({
  plugins: [workerUrlsForApps()],
  root: resolve(root, 'demo'),
  // Relative asset URLs, so the pool's worker script is found next to dist/handout.js.
  base: './',
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [root] } },
  build: {
    minify: false,
    outDir: resolve(root, 'dist'),
    emptyOutDir: true,
    sourcemap: true,
    lib: {
      // `handout`, `handout/worker` (for the scripts of Web Workers that serve functions) and
      // `handout/testing/memory` (the in-memory swarm for apps' unit tests).
      entry: {
        handout: resolve(root, 'src/index.ts'),
        worker: resolve(root, 'src/worker.ts'),
        testing: resolve(root, 'src/testing/memory.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: { external: ['idb-keyval', 'peerjs'] },
  },
});
