import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { APP_CSP_META } from './electron/main/security';

/**
 * The shipped page carries the app's CSP as a meta tag too (main also sends it as a header), so it
 * holds however the file is loaded. Build only: Vite's dev server needs inline styles and its HMR
 * socket, which main allows by header in dev; browser tests serve their own header.
 */
function cspMeta(): Plugin {
  return {
    name: 'medus-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: APP_CSP_META }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve('electron/main/index.ts'),
          // the engine runs in its own utilityProcess, off the main and UI threads
          'engine-host': resolve('electron/engine/utility-entry.ts'),
          'batch-host': resolve('electron/main/batch-host.ts'),
          // the batch's engine pool starts one per worker thread (electron/engine/pool.ts finds it beside itself)
          'engine-worker': resolve('electron/engine/worker-entry.ts'),
          // its own file in the package, so test/packaging.test.ts can run the packaged settings code
          settings: resolve('electron/main/settings.ts'),
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
    plugins: [vue(), cspMeta()],
  },
});
