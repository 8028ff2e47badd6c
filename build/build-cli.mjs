#!/usr/bin/env node
// Bundles the command line (electron/cli/main.ts and everything it imports) into one ESM file,
// out/cli/medus.mjs, that runs on a plain Node >= 20 without tsx or the TypeScript sources.
//
// In the package the file sits in resources/app.asar.unpacked/out/cli/ (see asarUnpack in
// build/electron-builder.yml), so Node's module resolution finds the packages it leaves out of the
// bundle in resources/app.asar.unpacked/node_modules: the native ones (onnxruntime-node, sharp and
// its @img binaries) and those the code loads by name at run time through createRequire (the WASM
// DICOM codecs, which read their .wasm beside them, dicom-parser, jpeg-lossless-decoder-js).
// A plain `node` cannot read inside app.asar, and the app binary cannot act as Node (the runAsNode
// fuse is off), hence this layout.
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

// The source finds the model relative to itself (../../models/medus-s-v1), which in the package
// would be app.asar.unpacked/models. When the packaged model is where electron-builder puts it
// (resources/models/medus-s-v1, three folders up from this file) and nobody chose another, use it.
// Runs before main() reads MEDUS_MODEL, whatever starts the bundle (the launcher or `node` itself).
const BANNER = `// MedUS command line, bundled by build/build-cli.mjs: run with Node >= 20.
import { existsSync as __medusExists } from 'node:fs';
import { dirname as __medusDirname, join as __medusJoin } from 'node:path';
import { fileURLToPath as __medusFileURLToPath } from 'node:url';
import { createRequire as __medusCreateRequire } from 'node:module';
// CommonJS packages bundled into this ESM file call require() for Node's own modules
const require = __medusCreateRequire(import.meta.url);
if (!process.env.MEDUS_MODEL) {
  const __medusPackaged = __medusJoin(__medusDirname(__medusFileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'medus-s-v1');
  if (__medusExists(__medusJoin(__medusPackaged, 'model.json'))) process.env.MEDUS_MODEL = __medusPackaged;
}`;

export async function buildCli(outfile = resolve(ROOT, 'out', 'cli', 'medus.mjs')) {
  await build({
    entryPoints: [resolve(ROOT, 'electron', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: CLI_EXTERNAL,
    banner: { js: BANNER },
    legalComments: 'eof',
    logLevel: 'warning',
    minify: false,
    sourcemap: false,
  });
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
