/**
 * Builds the dashboard (src/dashboard) into dist/dashboard, which the service serves at `/`.
 * Relative asset URLs (`base: './'`) so it also works behind a path prefix; everything is bundled
 * (uPlot included), nothing is loaded from a CDN.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/dashboard', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/dashboard', import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    // No source maps in the package: they would triple its size; `vite build --sourcemap` for debugging.
    sourcemap: false,
    reportCompressedSize: true,
    assetsInlineLimit: 0,
  },
});
