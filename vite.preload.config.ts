/**
 * Bundles the Electron preload (electron/main/preload.ts + the contract + zod) into one CommonJS file,
 * dist/electron/main/preload.cjs: a sandboxed preload cannot import modules, only `require('electron')`.
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist/electron/main', import.meta.url)),
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    target: 'chrome130',
    lib: {
      entry: fileURLToPath(new URL('./electron/main/preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rolldownOptions: { external: ['electron'] },
  },
});
