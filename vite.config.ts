import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = dirname(fileURLToPath(import.meta.url));

// `vite` serves the demo page (demo/); `vite build` builds the library (src/index.ts -> dist/).
export default defineConfig({
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
