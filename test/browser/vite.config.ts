import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

// Serves the browser-test pages, which import the library straight from src/.
export default defineConfig({
  root: resolve(here, 'pages'),
  logLevel: 'warn',
  server: { fs: { allow: [resolve(here, '../..')] } },
});
