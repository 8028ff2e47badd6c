/**
 * The Linux package as electron-builder makes it from build/electron-builder.yml (the `dir` target,
 * which the AppImage and the .deb wrap): what app.asar carries, which native binaries ship, where
 * the model is, and that the command line inside the package runs on a plain `node` against the
 * packaged model and native modules.
 *
 * No Electron binary is downloaded: electron-builder packs a stub distribution (a script that holds
 * Electron's fuse sentinel, so the fuses are still flipped and checked). Skipped, saying why, where
 * electron-builder is not installed, on other OSes/CPUs, or when it needs a network it cannot reach.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const BUILDER_CLI = join(ROOT, 'node_modules', 'electron-builder', 'cli.js');
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
const SAMPLES = process.env.MEDUS_DICOM_SAMPLES ?? resolve(ROOT, '..', 'shared', 'dicom-samples');

/** Packages only building, testing or developing need; none may be inside the installed app. */
const BUILD_TIME = [
  'vite', 'vitest', 'typescript', 'electron', 'electron-vite', 'electron-builder', 'app-builder-lib', 'esbuild', 'rollup',
  'tsx', 'eslint', 'vue', 'pinia', 'vue-tsc', 'postcss', 'happy-dom', 'playwright-core', 'ws', 'bmp-ts',
  '@vue/compiler-sfc', '@vue/compiler-dom', '@vue/compiler-core', '@babel/parser', '@babel/core', '@babel/types',
];
const BUILD_TIME_SCOPES = ['@vue', '@vitejs', '@rollup', '@esbuild', '@types', '@typescript-eslint', '@eslint', '@electron'];

const platformOk = process.platform === 'linux' && process.arch === 'x64';
const builderOk = existsSync(BUILDER_CLI);
const why = !platformOk ? `needs Linux x64 (this is ${process.platform} ${process.arch})` : !builderOk ? 'electron-builder is not installed (npm ci)' : '';
if (why) console.warn(`packaging test skipped: ${why}`);

interface AsarEntry { size?: number; unpacked?: boolean; files?: Record<string, AsarEntry> }

/** The asar header (a Chromium pickle holding JSON), read directly: no dependency on @electron/asar. */
function asarEntries(file: string): Map<string, AsarEntry> {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    readSync(fd, head, 0, 16, 0);
    const jsonLength = head.readUInt32LE(12);
    const json = Buffer.alloc(jsonLength);
    readSync(fd, json, 0, jsonLength, 16);
    const out = new Map<string, AsarEntry>();
    const walk = (node: AsarEntry, prefix: string) => {
      for (const [name, child] of Object.entries(node.files ?? {})) {
        const path = prefix ? `${prefix}/${name}` : name;
        out.set(path, child);
        if (child.files) walk(child, path);
      }
    };
    walk(JSON.parse(json.toString('utf8')) as AsarEntry, '');
    return out;
  } finally {
    closeSync(fd);
  }
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walkFiles(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function bytesOf(path: string): number {
  return statSync(path).isDirectory() ? walkFiles(path).reduce((n, f) => n + statSync(f).size, 0) : statSync(path).size;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** The first bytes of a file: which kind of native binary it is, if any. */
function binaryKind(file: string): 'elf-x86-64' | 'elf-other' | 'mach-o' | 'pe' | null {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(20);
  const n = readSync(fd, b, 0, 20, 0);
  closeSync(fd);
  if (n >= 20 && b.readUInt32BE(0) === 0x7f454c46) return b[4] === 2 && b.readUInt16LE(18) === 0x3e ? 'elf-x86-64' : 'elf-other';
  if (n >= 4 && [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(b.readUInt32BE(0))) return 'mach-o';
  if (n >= 2 && b[0] === 0x4d && b[1] === 0x5a) return 'pe';
  return null;
}

/** out/ is rebuilt only when a source is newer (electron-vite empties out/ while it builds). */
function ensureBuilt(): void {
  const outputs = ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((p) => join(ROOT, p));
  const newestSource = ['electron', 'renderer', 'electron.vite.config.ts']
    .flatMap((p) => (statSync(join(ROOT, p)).isDirectory() ? walkFiles(join(ROOT, p)) : [join(ROOT, p)]))
    .reduce((t, f) => Math.max(t, statSync(f).mtimeMs), 0);
  if (outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestSource)) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}

/** An "Electron" for electron-builder to pack: the files it copies and a fuse wire to flip. */
function stubElectron(dir: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  // Electron 41's defaults: runAsNode, NODE_OPTIONS and --inspect on, the rest off or inherited
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.from('#!/bin/sh\necho "stub Electron"\n#'), Buffer.from(FUSE_SENTINEL), Buffer.from([1, 9]), Buffer.from('101100011\n')]));
  chmodSync(join(dir, 'electron'), 0o755);
  writeFileSync(join(dir, 'LICENSE'), 'stub');
  writeFileSync(join(dir, 'LICENSES.chromium.html'), 'stub');
  writeFileSync(join(dir, 'version'), JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')).version);
}

const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|getaddrinfo|unable to download|cannot download/i;

describe.skipIf(Boolean(why))('Linux package (electron-builder dir target, stub Electron)', () => {
  let tmp = '';
  let app = '';
  let resources = '';
  let entries = new Map<string, AsarEntry>();
  let skipped = '';

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'medus-package-'));
    ensureBuilt();
    const dist = join(tmp, 'electron-dist');
    stubElectron(dist);
    const electronVersion = readFileSync(join(dist, 'version'), 'utf8');
    const r = spawnSync(
      process.execPath,
      [BUILDER_CLI, '--linux', 'dir', '--x64', '--publish', 'never', '--config', 'build/electron-builder.yml',
        `-c.electronDist=${dist}`, `-c.electronVersion=${electronVersion}`, `-c.directories.output=${join(tmp, 'dist')}`],
      { cwd: ROOT, encoding: 'utf8', timeout: 150_000, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
    );
    const log = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0 && NETWORK.test(log)) {
      skipped = `electron-builder needed the network, which is not reachable here:\n${log.slice(-2000)}`;
      console.warn(`packaging test skipped: ${skipped}`);
      return;
    }
    if (r.status !== 0) throw new Error(`electron-builder failed (${r.status ?? r.signal}):\n${log.slice(-4000)}`);
    app = join(tmp, 'dist', 'linux-unpacked');
    resources = join(app, 'resources');
    entries = asarEntries(join(resources, 'app.asar'));
    const sizes = {
      total: bytesOf(app) - statSync(join(app, 'medus-workstation')).size,
      'app.asar': bytesOf(join(resources, 'app.asar')),
      'app.asar.unpacked': bytesOf(join(resources, 'app.asar.unpacked')),
      models: bytesOf(join(resources, 'models')),
      cli: bytesOf(join(resources, 'app.asar.unpacked', 'out', 'cli', 'medus.mjs')),
    };
    console.log(`packaged (without the Electron binary): ${Object.entries(sizes).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}`);
  }, 200_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('app.asar holds the built app and runtime packages only: no sources, no build-time packages', (ctx) => {
    if (skipped) ctx.skip();
    const top = new Set([...entries.keys()].map((p) => p.split('/')[0]));
    expect([...top].sort()).toEqual(['node_modules', 'out', 'package.json']);
    for (const f of ['out/main/index.js', 'out/main/engine-host.js', 'out/main/batch-host.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
      expect(entries.has(f), f).toBe(true);
    }
    const packages = new Set([...entries.keys()].map((p) => p.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1]).filter((p): p is string => Boolean(p)));
    const offending = [...packages].filter((p) => BUILD_TIME.includes(p) || BUILD_TIME_SCOPES.some((s) => p.startsWith(`${s}/`)));
    expect(offending).toEqual([]);
    for (const p of ['onnxruntime-node', 'sharp', 'dcmjs', 'pdf-lib', 'zod', 'dicom-parser']) expect(packages.has(p), p).toBe(true);
    // native code inside the asar could not load (and would be another platform's)
    const nativeInAsar = [...entries.entries()].filter(([p, e]) => !e.files && !e.unpacked && /\.(node|so(\.\d+)*|dll|dylib|exe)$/.test(p)).map(([p]) => p);
    expect(nativeInAsar).toEqual([]);
  });

  it('the unpacked native binaries are Linux x64 only', (ctx) => {
    if (skipped) ctx.skip();
    const unpacked = join(resources, 'app.asar.unpacked');
    const files = walkFiles(unpacked).map((f) => relative(unpacked, f));
    expect(files.filter((f) => /(^|\/)(darwin|win32|arm64|linuxmusl|wasm32)([-/]|$)/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.(dll|dylib|exe)$/i.test(f))).toEqual([]);
    const kinds = files.map((f) => [f, binaryKind(join(unpacked, f))] as const).filter(([, k]) => k !== null);
    expect(kinds.filter(([, k]) => k !== 'elf-x86-64')).toEqual([]);
    const natives = kinds.map(([f]) => f);
    expect(natives).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node');
    expect(natives.some((f) => /^node_modules\/@img\/sharp-linux-x64\/lib\/sharp-linux-x64.*\.node$/.test(f))).toBe(true);
    expect(natives.some((f) => /^node_modules\/@img\/sharp-libvips-linux-x64\/lib\/libvips-cpp\.so/.test(f))).toBe(true);
  });

  it('the model, licences and launcher ship beside the app; the fuses are flipped', (ctx) => {
    if (skipped) ctx.skip();
    for (const f of ['model.json', 'encoder.onnx', 'decoder.onnx', 'MODEL_CARD.md']) {
      expect(statSync(join(resources, 'models', 'medus-s-v1', f)).size, f).toBeGreaterThan(0);
    }
    expect(readFileSync(join(resources, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    expect(existsSync(join(resources, 'THIRD_PARTY_NOTICES.md'))).toBe(true);
    expect(statSync(join(resources, 'bin', 'medus')).mode & 0o111).not.toBe(0);
    expect(entries.get('out/cli/medus.mjs')?.unpacked).toBe(true);
    const bin = readFileSync(join(app, 'medus-workstation'));
    const at = bin.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    // RunAsNode off, cookie encryption on, NODE_OPTIONS off, --inspect off, asar integrity on, asar only on, …, file:// privileges off
    expect(bin.subarray(at + 2, at + 2 + 8).toString('latin1')).toBe('01001100');
  });

  it('the packaged command line runs on a plain node: info names the packaged model, segment writes a mask', async (ctx) => {
    if (skipped) ctx.skip();
    const env = { ...process.env };
    delete env.MEDUS_MODEL;
    const launcher = join(resources, 'bin', 'medus');
    const info = spawnSync(launcher, ['info'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(info.status, info.stderr).toBe(0);
    const parsed = JSON.parse(info.stdout) as { model: { name: string; dir: string; anatomies: string[] } };
    expect(parsed.model.dir).toBe(join(resources, 'models', 'medus-s-v1'));
    expect(parsed.model.anatomies).toContain('thyroid-nodule');

    const work = join(tmp, 'cli');
    mkdirSync(work, { recursive: true });
    const image = join(work, 'lesion.png');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="72"><rect width="96" height="72" fill="#303030"/><ellipse cx="48" cy="36" rx="20" ry="14" fill="#d0d0d0"/></svg>';
    await sharp(Buffer.from(svg)).greyscale().png().toFile(image);
    // the bundle run directly (as the launcher does), with the packaged model named explicitly
    const cli = join(resources, 'app.asar.unpacked', 'out', 'cli', 'medus.mjs');
    const seg = spawnSync(process.execPath, [cli, 'segment', image, '--anatomy', 'thyroid-nodule', '--box', '24,18,72,54', '--out', join(work, 'out')], {
      encoding: 'utf8', env: { ...env, MEDUS_MODEL: join(resources, 'models', 'medus-s-v1') }, timeout: 60_000,
    });
    expect(seg.status, seg.stderr).toBe(0);
    const mask = await sharp(join(work, 'out', 'lesion_mask.png')).metadata();
    expect([mask.width, mask.height]).toEqual([96, 72]);
    expect(existsSync(join(work, 'out', 'lesion.json'))).toBe(true);
  });

  it.skipIf(!existsSync(join(SAMPLES, 'README.md')))('the packaged command line decodes compressed DICOM (the codecs it loads by name are unpacked)', (ctx) => {
    if (skipped) ctx.skip();
    const files = ['us_mono2_jpegls_philips.dcm', 'us_jpeg50_ybr422_atl.dcm', 'us_ybrict_j2k_lossy_ge_regions.dcm', 'us_mono2_jpeg70_philips_regions.dcm']
      .map((f) => join(SAMPLES, f))
      .filter((f) => existsSync(f));
    const out = join(tmp, 'dicom-out');
    const r = spawnSync(join(resources, 'bin', 'medus'), ['segment', ...files, '--anatomy', 'thyroid-nodule', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('_mask.png'))).toHaveLength(files.length);
  });
});
