import { defineConfig } from 'vite';

export default defineConfig({
  // Only the workers' script imports handout/worker, and Vite's scan of the page does not reach
  // it. Listed here, the dev server pre-bundles it at startup; left out, it is found when the
  // first worker starts, Vite re-optimises and reloads, and a tab still loading the room's
  // lazy chunk gets 504 "Outdated Optimize Dep" (the production build is not affected).
  optimizeDeps: { include: ['handout', 'handout/worker'] },
});
