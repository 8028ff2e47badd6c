/**
 * The Linux package as electron-builder makes it from build/electron-builder.yml (the `dir` target,
 * which the AppImage and the .deb wrap): what app.asar carries, which native binaries ship, where
 * the model is, that the command line inside the package runs against the packaged model and
 * native modules (through the `medus` launcher, and extracted and run on a plain `node`), and
 * that the packaged settings code stores the bundled model as "bundled".
 *
 * No Electron binary is downloaded: electron-builder packs a stub distribution (a script that holds
 * Electron's fuse sentinel, so the fuses are still flipped and checked). The stub stands in for the
 * app binary's command-line mode (`--medus-cli`, electron/main/cli-mode.ts, tested on its own in
 * test/cli-mode.test.ts) by running the packaged bundle on this test's node, so the launcher's
 * part (finding the binary through a symlink, the switches, the exit code) is what is checked here.
 * Skipped, saying why, where electron-builder is not installed, on other OSes/CPUs, or when it
 * needs a network it cannot reach.
 *
 * The installers' own scripts are checked without building them (no fpm or NSIS download here):
 * the .deb's scripts run against a temporary root, the NSIS include compiles with makensis when
 * one is installed, and the launchers name the binaries the configuration produces.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, closeSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

interface AsarEntry { size?: number; offset?: string; unpacked?: boolean; files?: Record<string, AsarEntry> }

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

/** Copies the files under `prefixes` out of an asar (its data follows the header pickle). */
function asarExtract(file: string, entries: Map<string, AsarEntry>, prefixes: string[], to: string): void {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const base = 8 + head.readUInt32LE(4);
    for (const [path, e] of entries) {
      if (e.files || e.unpacked || e.offset === undefined || !prefixes.some((p) => path.startsWith(p))) continue;
      const data = Buffer.alloc(e.size ?? 0);
      readSync(fd, data, 0, data.length, base + Number(e.offset));
      mkdirSync(dirname(join(to, path)), { recursive: true });
      writeFileSync(join(to, path), data);
    }
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

/**
 * Stands in for the app binary's command-line mode: after `--medus-cli` it runs the packaged bundle
 * (as electron/main/cli-mode.ts does in the real binary) on MEDUS_TEST_NODE, and writes the
 * switches it was given before the flag to MEDUS_TEST_SWITCHES; any other start just prints.
 */
const STUB_SCRIPT = `#!/bin/sh
here=$(dirname "$0")
for a in "$@"; do
  shift
  if [ "$a" = --medus-cli ]; then exec "$MEDUS_TEST_NODE" "$here/resources/app.asar.unpacked/out/cli/medus.mjs" "$@"; fi
  [ -n "$MEDUS_TEST_SWITCHES" ] && echo "$a" >> "$MEDUS_TEST_SWITCHES"
done
echo "stub Electron"
exit 0
`;

/** An "Electron" for electron-builder to pack: the files it copies and a fuse wire to flip. */
function stubElectron(dir: string): void {
  mkdirSync(join(dir, 'resources'), { recursive: true });
  // Electron 41's defaults: runAsNode, NODE_OPTIONS and --inspect on, the rest off or inherited
  writeFileSync(join(dir, 'electron'), Buffer.concat([Buffer.from(`${STUB_SCRIPT}#`), Buffer.from(FUSE_SENTINEL), Buffer.from([1, 9]), Buffer.from('101100011\n')]));
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
    // engine-worker.js: the batch's engines in worker threads (electron/engine/pool.ts finds it beside batch-host.js)
    for (const f of ['out/main/index.js', 'out/main/engine-host.js', 'out/main/batch-host.js', 'out/main/engine-worker.js', 'out/main/settings.js', 'out/preload/index.cjs', 'out/renderer/index.html']) {
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

  it('the built main-process bundles load: their shared chunks declare nothing twice (a `const require` of ours beside electron-vite\'s own stopped the engine and batch hosts)', (ctx) => {
    if (skipped) ctx.skip();
    for (const f of ['out/main/batch-host.js', 'out/main/engine-worker.js']) {
      // imported on a plain node from the checkout (its node_modules): a syntax or link error fails here, as it would in the app
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(ROOT, f)).href)});`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    // the engine host runs in Electron's utility process: on a plain node it gets as far as asking for its port
    const host = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(join(ROOT, 'out/main/engine-host.js')).href)});`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(host.stderr).not.toMatch(/SyntaxError|has already been declared|Cannot find module/);
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
    // medus batch's engines in worker threads start this file, beside the bundle
    expect(entries.get('out/cli/engine-worker.mjs')?.unpacked).toBe(true);
    const bin = readFileSync(join(app, 'medus-workstation'));
    const at = bin.indexOf(FUSE_SENTINEL) + FUSE_SENTINEL.length;
    // RunAsNode off, cookie encryption on, NODE_OPTIONS off, --inspect off, asar integrity on, asar only on, …, file:// privileges off
    expect(bin.subarray(at + 2, at + 2 + 8).toString('latin1')).toBe('01001100');
  });

  it('`medus` on the PATH (a link to the launcher, as the .deb makes) runs the app binary in its command-line mode with the bundled model', (ctx) => {
    if (skipped) ctx.skip();
    const env: NodeJS.ProcessEnv = { ...process.env, MEDUS_TEST_NODE: process.execPath, MEDUS_TEST_SWITCHES: join(tmp, 'switches.txt') };
    delete env.MEDUS_MODEL;
    delete env.MEDUS_NODE;
    const bin = join(tmp, 'usr-bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(join(resources, 'bin', 'medus'), join(bin, 'medus'));
    const info = spawnSync(join(bin, 'medus'), ['info', '--provider', 'cpu'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(info.status, info.stderr).toBe(0);
    const parsed = JSON.parse(info.stdout) as { model: { name: string; dir: string; source: string; anatomies: string[] } };
    expect(parsed.model).toMatchObject({ dir: join(resources, 'models', 'medus-s-v1'), source: 'bundled' });
    expect(parsed.model.anatomies).toContain('thyroid-nodule');
    // no display needed, nothing drawn: Chromium's switches come before the command-line flag
    expect(readFileSync(join(tmp, 'switches.txt'), 'utf8').trim().split('\n')).toEqual(['--ozone-platform=headless', '--disable-gpu']);
    // medus's exit code reaches the shell through the launcher and the binary
    const usage = spawnSync(join(bin, 'medus'), ['segment', '--bogus'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(usage.status).toBe(2);
    // MEDUS_NODE runs the same bundle on a Node.js instead (the fallback)
    const viaNode = spawnSync(join(bin, 'medus'), ['info', '--provider', 'cpu'], { encoding: 'utf8', env: { ...env, MEDUS_TEST_NODE: '/nonexistent', MEDUS_NODE: process.execPath }, timeout: 60_000 });
    expect(viaNode.status, viaNode.stderr).toBe(0);
    expect((JSON.parse(viaNode.stdout) as { model: { source: string } }).model.source).toBe('bundled');
  });

  it("CI's smoke test of an installed command line (build/check-installed-cli.mjs) sees that the stub is not the app's Electron", (ctx) => {
    if (skipped) ctx.skip();
    // on CI it runs against the real binary; here the stub runs the bundle on node, which it must notice
    const env = { ...process.env, MEDUS_TEST_NODE: process.execPath };
    const r = spawnSync(process.execPath, [join(ROOT, 'build', 'check-installed-cli.mjs'), join(resources, 'bin', 'medus')], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/- not run by the app's own binary: runtime Node\.js /);
    expect(r.stderr.match(/^- /gm)).toHaveLength(1); // the bundled model and the exit code passed
  });

  it('the packaged command line, extracted and run on a plain node: info names the bundled model, segment writes a mask', async (ctx) => {
    if (skipped) ctx.skip();
    const env = { ...process.env };
    delete env.MEDUS_MODEL;
    const extracted = join(resources, 'app.asar.unpacked', 'out', 'cli', 'medus.mjs');
    const info = spawnSync(process.execPath, [extracted, 'info', '--provider', 'cpu'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(info.status, info.stderr).toBe(0);
    const parsed = JSON.parse(info.stdout) as { model: { name: string; dir: string; source: string } };
    expect(parsed.model).toMatchObject({ dir: join(resources, 'models', 'medus-s-v1'), source: 'bundled' });

    const work = join(tmp, 'cli');
    mkdirSync(work, { recursive: true });
    const image = join(work, 'lesion.png');
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="72"><rect width="96" height="72" fill="#303030"/><ellipse cx="48" cy="36" rx="20" ry="14" fill="#d0d0d0"/></svg>';
    await sharp(Buffer.from(svg)).greyscale().png().toFile(image);
    const seg = spawnSync(process.execPath, [extracted, 'segment', image, '--anatomy', 'thyroid-nodule', '--box', '24,18,72,54', '--out', join(work, 'out')], { encoding: 'utf8', env, timeout: 60_000 });
    expect(seg.status, seg.stderr).toBe(0);
    const mask = await sharp(join(work, 'out', 'lesion_mask.png')).metadata();
    expect([mask.width, mask.height]).toEqual([96, 72]);
    expect(existsSync(join(work, 'out', 'lesion.json'))).toBe(true);
    // a batch runs its engines in worker threads from the unpacked engine-worker.mjs beside the bundle
    mkdirSync(join(work, 'batch-in'));
    copyFileSync(image, join(work, 'batch-in', 'lesion1.png'));
    copyFileSync(image, join(work, 'batch-in', 'lesion2.png'));
    const batch = spawnSync(process.execPath, [extracted, 'batch', join(work, 'batch-in'), '--anatomy', 'thyroid-nodule', '--out', join(work, 'batch'), '--provider', 'cpu', '--threads', '2'], { encoding: 'utf8', env, timeout: 120_000 });
    expect(batch.status, batch.stderr).toBe(0);
    expect(batch.stderr).toMatch(/on cpu, 2 workers × 1 thread/);
    expect(batch.stderr).not.toMatch(/did not start/);
    expect(readFileSync(join(work, 'batch', 'results.csv'), 'utf8')).toMatch(/lesion2\.png/);
  });

  it('settings.json written by the packaged settings code stores the bundled model as "bundled", never its path', async (ctx) => {
    if (skipped) ctx.skip();
    // the packaged out/main/settings.js and what it imports, copied out of app.asar
    const extracted = join(tmp, 'asar');
    asarExtract(join(resources, 'app.asar'), entries, ['out/main/', 'node_modules/zod/', 'package.json'], extracted);
    const { createSettingsStore } = (await import(join(extracted, 'out', 'main', 'settings.js'))) as typeof import('../electron/main/settings');
    const file = join(tmp, 'settings.json');
    const bundled = join(resources, 'models', 'medus-s-v1');
    const store = await createSettingsStore(file, { provider: 'auto', threads: 2, modelDir: bundled, zoom: true });
    await store.set({ threads: 3 });
    const written = readFileSync(file, 'utf8');
    expect(JSON.parse(written)).toMatchObject({ modelDir: 'bundled', threads: 3 });
    expect(written).not.toContain(resources);
    // the next start, from wherever the app is mounted then (an AppImage moves every time)
    const again = await createSettingsStore(file, { provider: 'auto', threads: 2, modelDir: '/tmp/.mount_medusAB12/resources/models/medus-s-v1', zoom: true });
    expect(again.get()).toMatchObject({ modelDir: '/tmp/.mount_medusAB12/resources/models/medus-s-v1', threads: 3 });
  });

  it.skipIf(!existsSync(join(SAMPLES, 'README.md')))('the packaged command line decodes compressed DICOM (the codecs it loads by name are unpacked)', (ctx) => {
    if (skipped) ctx.skip();
    const files = ['us_mono2_jpegls_philips.dcm', 'us_jpeg50_ybr422_atl.dcm', 'us_ybrict_j2k_lossy_ge_regions.dcm', 'us_mono2_jpeg70_philips_regions.dcm']
      .map((f) => join(SAMPLES, f))
      .filter((f) => existsSync(f));
    const out = join(tmp, 'dicom-out');
    const env = { ...process.env, MEDUS_TEST_NODE: process.execPath };
    const r = spawnSync(join(resources, 'bin', 'medus'), ['segment', ...files, '--anatomy', 'thyroid-nodule', '--out', out], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('_mask.png'))).toHaveLength(files.length);
  });
});

/** build/electron-builder.yml, parsed with the YAML reader electron-builder itself uses. */
function builderConfig(): Record<string, unknown> & { productName: string; linux: { executableName: string }; deb: { afterInstall: string; afterRemove: string }; nsis: { include: string; perMachine: boolean } } {
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
  return yaml.load(readFileSync(join(ROOT, 'build', 'electron-builder.yml'), 'utf8')) as ReturnType<typeof builderConfig>;
}

/** A deb script as electron-builder writes it: its `${macro}`s filled (FpmTarget's writeConfigFile). */
function renderDebScript(template: string, macros: Record<string, string>): string {
  return readFileSync(join(ROOT, template), 'utf8').replace(/\$\{([a-zA-Z]+)\}/g, (_m, name: string) => {
    if (!(name in macros)) throw new Error(`${template}: electron-builder has no macro \${${name}} and would stop`);
    return macros[name]!;
  });
}

/** The part of a deb script between the MedUS markers, with /usr/bin and /opt moved under `root`. */
function medusBlock(script: string, root: string): string {
  const block = script.slice(script.indexOf('# --- MedUS:'), script.indexOf('# --- end MedUS ---'));
  return block.replaceAll('/usr/bin/', `${root}/usr/bin/`).replaceAll("'/opt/", `'${root}/opt/`);
}

const bashOk = spawnSync('bash', ['--version']).status === 0;
const makensis = process.env.MAKENSIS ?? (spawnSync('makensis', ['-VERSION']).status === 0 ? 'makensis' : null);
/** Wine, to run a compiled installer (Debian's wine64 package puts it in /usr/lib/wine, off the PATH). */
const wine = makensis ? (process.env.WINE ?? ['/usr/lib/wine/wine64', 'wine64', 'wine'].find((w) => spawnSync(w, ['--version']).status === 0) ?? null) : null;

/** A test installer around build/installer.nsh, with stand-ins for what electron-builder's templates provide. */
function nsisHarness(dir: string, include: string, target: 'x86-unicode' | 'amd64-unicode'): string {
  const file = join(dir, `harness-${target}.nsi`);
  writeFileSync(file, [
    `Target ${target}`,
    `!addincludedir "${join(ROOT, 'build')}"`,
    'Name "medus"',
    'InstallDir "C:\\medus"',
    'RequestExecutionLevel user',
    '!include "LogicLib.nsh"',
    '!macro _isUpdated _a _b _t _f',
    '  StrCmp "1" "0" `${_t}` `${_f}`',
    '!macroend',
    '!define isUpdated `"" isUpdated ""`',
    `!include "${include}"`,
    '!ifdef BUILD_UNINSTALLER',
    `  OutFile "${join(dir, `make-remover-${target}.exe`)}"`,
    '!else',
    `  OutFile "${join(dir, `medus-add-${target}.exe`)}"`,
    '!endif',
    'Section "install"',
    '  SetOutPath $INSTDIR',
    '  !ifdef BUILD_UNINSTALLER',
    '    WriteUninstaller "$INSTDIR\\medus-remove.exe"',
    '  !else',
    '    !insertmacro customInstall',
    '  !endif',
    'SectionEnd',
    '!ifdef BUILD_UNINSTALLER',
    '  Section "un.Uninstall"',
    '    !insertmacro customUnInstall',
    '  SectionEnd',
    '!endif',
    '',
  ].join('\n'));
  return file;
}

describe('the installers\' own scripts (not built here: no fpm or NSIS download)', () => {
  const config = builderConfig();
  // one Wine prefix for the tests that use it (making one takes a while)
  let wineRoot = '';
  const wineserver = () => wine!.replace(/wine(64)?$/, 'wineserver');
  const wineEnv = (): NodeJS.ProcessEnv => {
    const first = !wineRoot;
    if (first) wineRoot = mkdtempSync(join(tmpdir(), 'medus-wine-'));
    const env = { ...process.env, WINEPREFIX: join(wineRoot, 'prefix'), WINEDEBUG: '-all' };
    // a wineserver kept running between calls: each wine call then takes a fraction of a second
    if (first) {
      mkdirSync(env.WINEPREFIX, { recursive: true });
      // it stays in the background: no pipes to it, or spawnSync would wait for it to end
      spawnSync(wineserver(), ['-p'], { env, stdio: 'ignore' });
    }
    return env;
  };
  /**
   * Runs a Windows program under Wine. Its output goes through a file, not a pipe: Wine's helper
   * processes (services, devices) live on with the server and would keep a pipe open for ever.
   */
  const w = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const full = { ...wineEnv(), ...env };
    const log = join(wineRoot, 'output.txt');
    const fd = openSync(log, 'w');
    try {
      const r = spawnSync(wine!, args, { env: full, stdio: ['ignore', fd, fd], timeout: 120_000 });
      return { status: r.status, stdout: readFileSync(log, 'utf8'), stderr: '' };
    } finally {
      closeSync(fd);
    }
  };
  afterAll(() => {
    if (!wineRoot) return;
    spawnSync(wineserver(), ['-k'], { env: wineEnv() });
    rmSync(wineRoot, { recursive: true, force: true });
  });
  const macros = { executable: config.linux.executableName, sanitizedProductName: config.productName, productFilename: config.productName };

  it('the launchers start the binaries this configuration names', () => {
    const sh = readFileSync(join(ROOT, 'build', 'medus'), 'utf8');
    expect(sh).toContain(`app="$resources/../${config.linux.executableName}"`);
    expect(sh).toContain(`app="$resources/../MacOS/${config.productName}"`);
    const cmd = readFileSync(join(ROOT, 'build', 'medus.cmd'), 'utf8');
    expect(cmd).toContain(`set "APP=%RESOURCES%\\..\\${config.productName}.exe"`);
    expect(cmd).toMatch(/"%APP%" --disable-gpu --medus-cli %\*\r\nexit \/b %ERRORLEVEL%/);
    expect(cmd.split('\n').every((l) => l === '' || l.endsWith('\r'))).toBe(true); // cmd.exe's labels want CRLF
  });

  it.skipIf(!bashOk)('the .deb (and .rpm) scripts are electron-builder\'s own (verbatim) plus the medus link, and are valid shell', () => {
    expect((config as unknown as { rpm: unknown }).rpm).toEqual(config.deb);
    for (const [ours, theirs] of [[config.deb.afterInstall, 'after-install.tpl'], [config.deb.afterRemove, 'after-remove.tpl']] as const) {
      const original = readFileSync(join(ROOT, 'node_modules', 'app-builder-lib', 'templates', 'linux', theirs), 'utf8');
      const text = readFileSync(join(ROOT, ours), 'utf8');
      // an electron-builder upgrade that changes its script shows up here, to be merged by hand
      expect(text.startsWith(original), `${ours} must start with electron-builder's ${theirs}`).toBe(true);
      const rendered = renderDebScript(ours, macros);
      const check = spawnSync('bash', ['-n'], { input: rendered, encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });

  it.skipIf(!bashOk)('installing links /usr/bin/medus to the launcher (never over another program); removing takes only our link, an upgrade keeps it', () => {
    const root = mkdtempSync(join(tmpdir(), 'medus-deb-'));
    try {
      const launcher = join(root, 'opt', config.productName, 'resources', 'bin', 'medus');
      mkdirSync(dirname(launcher), { recursive: true });
      mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
      writeFileSync(launcher, '#!/bin/sh\n', { mode: 0o755 });
      const install = medusBlock(renderDebScript(config.deb.afterInstall, macros), root);
      const remove = medusBlock(renderDebScript(config.deb.afterRemove, macros), root);
      const run = (script: string) => spawnSync('bash', ['-e'], { input: script, encoding: 'utf8' });
      const link = join(root, 'usr', 'bin', 'medus');

      expect(run(install).status).toBe(0);
      expect(readlinkSync(link)).toBe(launcher);
      expect(run(install).status).toBe(0); // again (an upgrade's after-install): still ours
      expect(readlinkSync(link)).toBe(launcher);
      expect(run(remove).status).toBe(0); // during an upgrade the launcher is still there: keep the link
      expect(readlinkSync(link)).toBe(launcher);
      rmSync(launcher);
      expect(run(remove).status).toBe(0); // after removal: the link goes
      expect(() => lstatSync(link)).toThrow(/ENOENT/);

      writeFileSync(launcher, '#!/bin/sh\n', { mode: 0o755 });
      writeFileSync(link, '#!/bin/sh\necho another medus\n', { mode: 0o755 }); // someone else's program
      const r = run(install);
      expect(r.stdout).toContain('/usr/bin/medus is another program');
      expect(readFileSync(link, 'utf8')).toContain('another medus');
      expect(run(remove).status).toBe(0);
      expect(readFileSync(link, 'utf8')).toContain('another medus');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('macOS: of the two identical onnxruntime dylibs in the npm package, only the one the binding loads ships', () => {
    const { minimatch } = createRequire(import.meta.url)('minimatch') as { minimatch(path: string, pattern: string): boolean };
    const exclusion = (config as unknown as { files: string[] }).files.find((f) => f.endsWith('.dylib'))!.slice(1);
    const dir = join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'darwin', 'arm64');
    const kept = readdirSync(dir).filter((f) => f.endsWith('.dylib') && !minimatch(`node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/${f}`, exclusion));
    expect(kept).toEqual(['libonnxruntime.1.dylib']);
    // an onnxruntime-node update that links the versioned name instead shows up here
    const binding = readFileSync(join(dir, 'onnxruntime_binding.node')).toString('latin1');
    expect(binding).toContain('@rpath/libonnxruntime.1.dylib');
    expect(binding).not.toMatch(/libonnxruntime\.\d+\.\d+\.\d+\.dylib/);
  });

  it('NSIS: the include is wired in and offers resources\\bin on the machine PATH, removed on uninstall', () => {
    expect(config.nsis).toMatchObject({ include: 'build/installer.nsh', perMachine: true });
    const nsh = readFileSync(join(ROOT, config.nsis.include), 'utf8');
    expect(nsh).toMatch(/!macro customInstall\s+Call medusOfferPath\s+!macroend/);
    expect(nsh).toMatch(/!macro customUnInstall[\s\S]*\$\{IfNot\} \$\{isUpdated\}\s+Call un\.medusRemovePath/);
    expect(nsh).toContain('StrCpy $R1 "$INSTDIR\\resources\\bin"');
    expect(nsh).toContain('HKLM "${MEDUS_ENVIRONMENT_KEY}" "Path"');
    expect(nsh).toContain('!define MEDUS_ENVIRONMENT_KEY "SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment"');
    expect(nsh).toContain('/SD IDYES'); // silent installs take the default, yes
    expect(nsh).toContain('"/NOMEDUSPATH"');
    expect(nsh).toContain('${NSIS_MAX_STRLEN}'); // a PATH too long to read whole is never written back cut short
    expect(nsh).toContain('"STR:Environment"');
  });

  it.skipIf(!makensis)('NSIS: the include compiles, warnings as errors, for the installer and for the uninstaller (makensis)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medus-nsis-'));
    try {
      // the two passes electron-builder makes (its installers are 32-bit x86-unicode)
      const harness = nsisHarness(dir, basename(config.nsis.include), 'x86-unicode');
      for (const pass of [[], ['-DBUILD_UNINSTALLER']]) {
        const r = spawnSync(makensis!, ['-V2', '-WX', ...pass, harness], { encoding: 'utf8', timeout: 60_000 });
        expect(r.status, `${pass.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!wine)('NSIS under Wine: adds the folder once, removes every copy and nothing else, honours /NOMEDUSPATH, never touches a PATH too long to read whole', () => {
    const dir = mkdtempSync(join(tmpdir(), 'medus-nsis-wine-'));
    const key = 'HKLM\\System\\CurrentControlSet\\Control\\Session Manager\\Environment';
    const setPath = (value: string) => expect(w(['reg', 'add', key, '/v', 'Path', '/t', 'REG_EXPAND_SZ', '/d', value, '/f']).status).toBe(0);
    const getPath = () => /REG_EXPAND_SZ\s{4}(.*)/.exec(w(['reg', 'query', key, '/v', 'Path']).stdout)![1]!.replace(/\r$/, '');
    try {
      // 64-bit here (a plain wine64 runs no 32-bit programs); the string handling is the same code
      const harness = nsisHarness(dir, basename(config.nsis.include), 'amd64-unicode');
      for (const pass of [[], ['-DBUILD_UNINSTALLER']]) expect(spawnSync(makensis!, ['-V1', '-WX', ...pass, harness]).status).toBe(0);
      const install = (...args: string[]) => w([join(dir, 'medus-add-amd64-unicode.exe'), '/S', ...args]);
      const uninstall = () => w(['C:\\medus\\medus-remove.exe', '/S', '_?=C:\\medus']);
      expect(w([join(dir, 'make-remover-amd64-unicode.exe'), '/S']).status).toBe(0);

      const ours = 'C:\\medus\\resources\\bin';
      const original = '%SystemRoot%\\system32;;C:\\Tools;%SystemRoot%';
      setPath(original);
      install();
      expect(getPath()).toBe(`${original};${ours}`);
      install(); // again (a repair, an update): not twice
      expect(getPath()).toBe(`${original};${ours}`);
      uninstall();
      expect(getPath()).toBe(original); // the empty entry and the order kept

      setPath(`C:\\A;c:\\MEDUS\\resources\\bin\\;C:\\B;${ours}`);
      uninstall();
      expect(getPath()).toBe('C:\\A;C:\\B');

      setPath('C:\\A;C:\\B');
      install('/NOMEDUSPATH');
      expect(getPath()).toBe('C:\\A;C:\\B');

      // longer than NSIS can hold (1024 characters in a standard build): it reads as "", and
      // writing that back with our folder would wipe the machine's PATH
      const long = Array.from({ length: 45 }, (_, i) => `C:\\Program Files\\Tool${String(i).padStart(3, '0')}\\bin`).join(';');
      setPath(long);
      install();
      expect(getPath()).toBe(long);
      setPath(`${long};${ours}`);
      uninstall();
      expect(getPath()).toBe(`${long};${ours}`);
      // readable, but adding the folder would pass the limit
      const near = 'C:\\x;'.repeat(202).slice(0, 1010);
      setPath(near);
      install();
      expect(getPath()).toBe(near);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it.skipIf(!wine)('medus.cmd under Wine: starts the app beside it with the flag and the arguments as typed, from a folder with parentheses, console output on', () => {
    const drive = join(wineEnv().WINEPREFIX!, 'drive_c');
    // a stand-in "MedUS Workstation.exe" (a GUI-subsystem program, as Electron's is): it writes what
    // it was given and whether ELECTRON_NO_ATTACH_CONSOLE reached it
    const fake = join(wineRoot, 'fake.nsi');
    writeFileSync(fake, [
      'Target amd64-unicode', 'Name "fake"', `OutFile "${join(wineRoot, 'fake.exe')}"`, 'SilentInstall silent', 'RequestExecutionLevel user', '!include "FileFunc.nsh"',
      'Section', '  ${GetParameters} $0', '  ReadEnvStr $2 ELECTRON_NO_ATTACH_CONSOLE', '  FileOpen $1 "$EXEDIR\\args.txt" w', '  FileWrite $1 "$0|$2"', '  FileClose $1', 'SectionEnd', '',
    ].join('\n'));
    expect(spawnSync(makensis!, ['-V1', fake]).status).toBe(0);
    const app = join(drive, 'Apps (x86 test)', config.productName);
    mkdirSync(join(app, 'resources', 'bin'), { recursive: true });
    mkdirSync(join(drive, 'node'), { recursive: true });
    writeFileSync(join(app, `${config.productName}.exe`), readFileSync(join(wineRoot, 'fake.exe')));
    writeFileSync(join(drive, 'node', 'node.exe'), readFileSync(join(wineRoot, 'fake.exe')));
    writeFileSync(join(app, 'resources', 'bin', 'medus.cmd'), readFileSync(join(ROOT, 'build', 'medus.cmd')));
    const cmd = `C:\\Apps (x86 test)\\${config.productName}\\resources\\bin\\medus.cmd`;
    // typed into a batch file, as a user or a scheduled task would; Wine's cmd loses `exit /b N`
    // codes of a called batch (it gives 1), so the exit code is not checked here
    const run = (line: string, env: NodeJS.ProcessEnv = {}) => {
      writeFileSync(join(drive, 'run.bat'), `@echo off\r\n${line}\r\n`);
      return w(['cmd', '/c', 'C:\\run.bat'], env);
    };
    const direct = w([join(app, `${config.productName}.exe`), 'x'], { ELECTRON_NO_ATTACH_CONSOLE: '1' });
    // that it ran shows in the file it writes; the status Wine reports for a GUI program is not
    // reliable (it gave 1 once in a CI run), so it is only said when the file is missing
    expect(existsSync(join(app, 'args.txt')), `status ${direct.status}: ${direct.stdout}`).toBe(true);
    expect(readFileSync(join(app, 'args.txt'), 'utf8')).toBe('x|1'); // the variable does reach a program
    run(`call "${cmd}" segment "C:\\scans\\a b.dcm" --out "C:\\out (1)" --anatomy thyroid`, { ELECTRON_NO_ATTACH_CONSOLE: '1' });
    expect(readFileSync(join(app, 'args.txt'), 'utf8')).toBe('--disable-gpu --medus-cli segment "C:\\scans\\a b.dcm" --out "C:\\out (1)" --anatomy thyroid|');
    run(`set MEDUS_NODE=C:\\node\\node.exe\r\ncall "${cmd}" info`);
    expect(readFileSync(join(drive, 'node', 'args.txt'), 'utf8')).toBe(`"C:\\Apps (x86 test)\\${config.productName}\\resources\\bin\\..\\app.asar.unpacked\\out\\cli\\medus.mjs" info|`);
    rmSync(join(app, `${config.productName}.exe`));
    const missing = run(`call "${cmd}" info`);
    expect(missing.stdout + missing.stderr).toContain(`the MedUS Workstation program is not at "C:\\Apps (x86 test)\\${config.productName}\\resources\\bin\\..\\..\\${config.productName}.exe"`);
  }, 240_000);
});

interface WorkflowStep { uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> }
interface WorkflowJob { 'runs-on': string; env?: Record<string, string>; steps: WorkflowStep[] }

describe('the installers workflow (.github/workflows/installers.yml; runs on GitHub, not here)', () => {
  const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
  const workflow = yaml.load(readFileSync(join(ROOT, '.github', 'workflows', 'installers.yml'), 'utf8')) as { jobs: Record<string, WorkflowJob> };
  const config = builderConfig() as ReturnType<typeof builderConfig> & { directories: { output: string }; win: { target: string }; mac: { target: Array<{ target: string; arch: string[] }> }; linux: { target: string[] } };
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const out = config.directories.output;
  const expected = {
    linux: { runner: /^ubuntu-/, flags: ['--linux', '--x64'], targets: config.linux.target, launcher: `${out}/linux-unpacked/resources/bin/medus`, artifacts: [`${out}/*.AppImage`, `${out}/*.deb`, `${out}/*.rpm`] },
    windows: { runner: /^windows-/, flags: ['--win', '--x64'], targets: [config.win.target], launcher: `${out}/win-unpacked/resources/bin/medus.cmd`, artifacts: [`${out}/*.exe`] },
    // Apple silicon runners only (macos-13 is Intel): onnxruntime-node ships macOS arm64 alone
    macos: { runner: /^macos-(1[4-9]|2\d|latest)/, flags: ['--mac', '--arm64'], targets: config.mac.target.map((t) => t.target), launcher: `${out}/mac-arm64/${config.productName}.app/Contents/Resources/bin/medus`, artifacts: [`${out}/*.dmg`] },
  };

  it('has a job per platform on the right kind of machine', () => {
    expect(config.mac.target).toEqual([{ target: 'dmg', arch: ['arm64'] }]); // never an x64 DMG (README: Intel Macs)
    expect(Object.keys(workflow.jobs).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) expect(workflow.jobs[name]!['runs-on'], name).toMatch(e.runner);
  });

  it('every script, file and command a job runs exists here', () => {
    for (const [name, job] of Object.entries(workflow.jobs)) {
      for (const step of job.steps) {
        if (step.uses) expect(step.uses, name).toMatch(/^actions\/[a-z-]+@v\d+$/);
        for (const line of (step.run ?? '').split('\n').filter(Boolean)) {
          const words = line.match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ''));
          if (words[0] === 'npm' && words[1] === 'run') expect(scripts, `${name}: ${line}`).toHaveProperty([words[2]!]);
          else if (words[0] === 'npm') expect(['ci'], `${name}: ${line}`).toContain(words[1]);
          else if (words[0] === 'npx') {
            expect(existsSync(join(ROOT, 'node_modules', '.bin', words[1]!)), `${name}: ${line}`).toBe(true);
            if (words[1] === 'vitest') for (const f of words.slice(3)) expect(existsSync(join(ROOT, f)), `${name}: ${f}`).toBe(true);
            const config = words.indexOf('--config');
            if (config > 0) expect(existsSync(join(ROOT, words[config + 1]!)), `${name}: ${line}`).toBe(true);
          } else if (words[0] === 'node') expect(existsSync(join(ROOT, words[1]!)), `${name}: ${line}`).toBe(true);
          // the build tools electron-builder and this test look for: rpmbuild (package rpm) and makensis
          else if (line === 'sudo apt-get update') continue;
          else if (words.slice(0, 4).join(' ') === 'sudo apt-get install -y') expect(words.slice(4).sort(), `${name}: ${line}`).toEqual(['nsis', 'rpm']);
          else throw new Error(`${name}: a command this test does not know: ${line}`);
        }
      }
    }
  });

  it('each job builds its platform\'s configured targets, smoke-tests the packaged command line where electron-builder puts it, and uploads the installers', () => {
    for (const [name, e] of Object.entries(expected)) {
      const runs = workflow.jobs[name]!.steps.map((s) => s.run ?? '');
      const build = runs.find((r) => r.includes('electron-builder'))!;
      expect(build, name).toContain('--config build/electron-builder.yml');
      for (const f of [...e.flags, '--publish never']) expect(build, name).toContain(f);
      // the words after the platform flag, up to the next option
      const after = build.split(e.flags[0]!)[1]!.trim().split(/\s+/);
      const targets = after.slice(0, after.findIndex((w) => w.startsWith('--')));
      expect(targets.map((t) => t.toLowerCase()).sort(), name).toEqual(e.targets.map((t) => t.toLowerCase()).sort());
      expect(runs.some((r) => r === `node build/check-installed-cli.mjs ${e.launcher.includes(' ') ? `"${e.launcher}"` : e.launcher}`), `${name} checks ${e.launcher}`).toBe(true);
      expect(runs.indexOf(build), name).toBeLessThan(runs.findIndex((r) => r.includes('check-installed-cli')));
      const upload = workflow.jobs[name]!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
      expect(upload.with!.path!.trim().split('\n').map((p) => p.trim()), name).toEqual(e.artifacts);
      expect(upload.with!['if-no-files-found'], name).toBe('error');
    }
  });

  it("the Linux job's onnxruntime-node install setting is one onnxruntime-node's installer accepts (skip, or fetch the CUDA provider)", () => {
    const setting = workflow.jobs.linux!.env!.ONNXRUNTIME_NODE_INSTALL!;
    const values = [...setting.matchAll(/'([^']+)'/g)].map((m) => m[1]!);
    expect(values.sort()).toEqual(['1', 'skip']);
    const { parseInstallFlag } = createRequire(import.meta.url)(join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install-utils.js')) as { parseInstallFlag(): unknown };
    const saved = process.env.ONNXRUNTIME_NODE_INSTALL;
    try {
      process.env.ONNXRUNTIME_NODE_INSTALL = 'skip';
      expect(parseInstallFlag()).toBe(false);
      process.env.ONNXRUNTIME_NODE_INSTALL = '1';
      expect(parseInstallFlag()).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.ONNXRUNTIME_NODE_INSTALL;
      else process.env.ONNXRUNTIME_NODE_INSTALL = saved;
    }
  });
});
