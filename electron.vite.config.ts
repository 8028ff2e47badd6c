import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('electron/main/index.ts'),
          // the engine runs in its own utilityProcess, off the main and UI threads
          'engine-host': resolve('electron/engine/utility-entry.ts'),
          'batch-host': resolve('electron/main/batch-host.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      // sandboxed preload scripts must be CommonJS
      rollupOptions: { input: { index: resolve('electron/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: 'renderer',
    build: { rollupOptions: { input: resolve('renderer/index.html') } },
    plugins: [vue()],
  },
});
