#!/usr/bin/env node
// Bundles the command line (electron/cli/main.ts and everything it imports) into one ESM file,
// out/cli/medus.mjs, without tsx or the TypeScript sources. The installed app's own binary runs it
// (`<app> --medus-cli …`, electron/main/cli-mode.ts, started by resources/bin/medus); a plain
// Node >= 20 runs it too (`node out/cli/medus.mjs …`), which is how the tests run it.
//
// In the package the file sits in resources/app.asar.unpacked/out/cli/ (see asarUnpack in
// build/electron-builder.yml), so Node's module resolution finds the packages it leaves out of the
// bundle in resources/app.asar.unpacked/node_modules: the native ones (onnxruntime-node, sharp and
// its @img binaries) and those the code loads by name at run time through createRequire (the WASM
// DICOM codecs, which read their .wasm beside them, dicom-parser, jpeg-lossless-decoder-js).
// Unpacked, because native modules cannot load from inside app.asar and a plain `node` cannot read it.
import { build } from 'esbuild';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Left out of the bundle: native code, or loaded by a name computed at run time. */
export const CLI_EXTERNAL = [
  'onnxruntime-node',
  'sharp',
  '@img/*',
  '@cornerstonejs/codec-charls',
  '@cornerstonejs/codec-libjpeg-turbo-8bit',
  '@cornerstonejs/codec-openjpeg',
  'dicom-parser',
  'jpeg-lossless-decoder-js',
  'electron',
];

// The bundle finds the model shipped with the app by itself (bundledModelDir in electron/cli/main.ts:
// resources/models/medus-s-v1 in an installed app), so `medus info` can say it is the bundled one.
const BANNER = `// MedUS command line, bundled by build/build-cli.mjs: run by the app (--medus-cli) or Node >= 20.
import { createRequire as __medusCreateRequire } from 'node:module';
// CommonJS packages bundled into this ESM file call require() for Node's own modules
const require = __medusCreateRequire(import.meta.url);`;

export async function buildCli(outfile = resolve(ROOT, 'out', 'cli', 'medus.mjs')) {
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: CLI_EXTERNAL, banner: { js: BANNER }, legalComments: 'eof', logLevel: 'warning', minify: false, sourcemap: false };
  await build({ ...common, entryPoints: [resolve(ROOT, 'electron', 'cli', 'main.ts')], outfile });
  // the engine's worker thread for `medus batch`'s pool of engines: electron/engine/pool.ts looks for it beside the bundle
  await build({ ...common, entryPoints: [resolve(ROOT, 'electron', 'engine', 'worker-entry.ts')], outfile: resolve(dirname(outfile), 'engine-worker.mjs') });
  return outfile;
}

/** electron-builder's beforePack hook (build/electron-builder.yml): the package always has a fresh CLI. */
export default async function beforePack() {
  await buildCli();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildCli(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`built ${out}\n`);
}
