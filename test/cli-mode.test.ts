/**
 * The installed app's command-line mode (`<app> --medus-cli …`, electron/main/cli-mode.ts): which
 * starts are command-line starts, where the bundle is, and that running it through this mode
 * gives medus's own exit code and output. Electron itself is replaced by a fake `app` here (no
 * Electron binary in this environment); the bundle is the real one, built by build/build-cli.mjs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI_FLAG, cliArguments, cliBundlePath, type CliHost, loadCliBundle, runCliInApp } from '../electron/main/cli-mode';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

function fakeHost() {
  const calls: string[] = [];
  const host: CliHost & { code: number | null } = {
    code: null,
    disableHardwareAcceleration: () => void calls.push('disableHardwareAcceleration'),
    hideDock: () => void calls.push('hideDock'),
    exit: (code) => {
      calls.push(`exit ${code}`);
      host.code = code;
    },
  };
  return { host, calls };
}

function fakeStream() {
  let text = '';
  const stream = { writable: true, write: (s: string, cb?: () => void) => ((text += s), cb?.(), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('command-line starts of the app binary', () => {
  it('takes everything after --medus-cli as medus arguments, the Chromium switches before it are not', () => {
    expect(cliArguments(['/opt/MedUS Workstation/medus-workstation', '--ozone-platform=headless', '--disable-gpu', CLI_FLAG, 'segment', 'a.png', '--out', 'o'])).toEqual(['segment', 'a.png', '--out', 'o']);
    expect(cliArguments(['app', CLI_FLAG])).toEqual([]);
  });
  it('a normal start (or a file opened with the app) is not a command-line start', () => {
    expect(cliArguments(['/opt/MedUS Workstation/medus-workstation'])).toBeNull();
    expect(cliArguments(['app', '/data/study.dcm'])).toBeNull();
    expect(cliArguments([CLI_FLAG])).toBeNull(); // argv[0] is the binary itself
  });
  it('finds the bundle unpacked in an installed app, in out/cli in a checkout', () => {
    expect(cliBundlePath({ isPackaged: true, resourcesPath: '/opt/MedUS Workstation/resources', appPath: '/opt/MedUS Workstation/resources/app.asar' }))
      .toBe('/opt/MedUS Workstation/resources/app.asar.unpacked/out/cli/medus.mjs');
    expect(cliBundlePath({ isPackaged: false, resourcesPath: '/x', appPath: '/work/main' })).toBe('/work/main/out/cli/medus.mjs');
  });
  it('switches the GPU off before loading, and exits with the command line exit code', async () => {
    const { host, calls } = fakeHost();
    await runCliInApp(['segment'], host, async () => {
      calls.push('load');
      return { cliEntry: async (argv) => (argv[0] === 'segment' ? 4 : 0) };
    });
    expect(calls).toEqual(['disableHardwareAcceleration', 'hideDock', 'load', 'exit 4']);
  });
  it('a Dock that cannot be hidden does not stop the command', async () => {
    const { host } = fakeHost();
    host.hideDock = () => {
      throw new Error('not ready');
    };
    await runCliInApp([], host, async () => ({ cliEntry: async () => 0 }));
    expect(host.code).toBe(0);
  });
  it('a missing bundle (a broken installation) says so and exits 1 rather than opening the app', async () => {
    const { host } = fakeHost();
    const err = fakeStream();
    await runCliInApp(['info'], host, loadCliBundle('/nonexistent/out/cli/medus.mjs'), fakeStream().stream, err.stream);
    expect(host.code).toBe(1);
    expect(err.text()).toMatch(/^medus: the command line in this installation could not start: .*nonexistent/);
  });
});

describe('the real bundle through the app-binary mode', () => {
  let dir = '';
  let bundle = '';
  beforeAll(() => {
    // two folders below the checkout, as out/cli is, so the bundle resolves node_modules and the
    // model as it does there; not in out/ itself, which the packaging test packs meanwhile
    dir = mkdtempSync(join(ROOT, 'test', '.cli-mode-'));
    bundle = join(dir, 'medus.mjs');
    const r = spawnSync(process.execPath, [join(ROOT, 'build', 'build-cli.mjs'), bundle], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`build-cli failed: ${r.stderr}`);
  }, 90_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports cliEntry, which returns the exit code: 0 for --help, 2 for a usage error', async () => {
    const cli = await loadCliBundle(bundle)();
    const quiet = [vi.spyOn(process.stdout, 'write').mockImplementation(() => true), vi.spyOn(process.stderr, 'write').mockImplementation(() => true)];
    try {
      expect(await cli.cliEntry(['--help'])).toBe(0);
      expect(await cli.cliEntry(['segment', '--bogus'])).toBe(2);
    } finally {
      for (const s of quiet) s.mockRestore();
    }
  });

  it('medus info through the app-binary mode names the bundled model and exits 0', async () => {
    const { host } = fakeHost();
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
      out += String(chunk);
      const cb = rest.find((r): r is () => void => typeof r === 'function');
      cb?.();
      return true;
    });
    const saved = process.env.MEDUS_MODEL;
    delete process.env.MEDUS_MODEL;
    try {
      await runCliInApp(['info', '--provider', 'cpu'], host, loadCliBundle(bundle));
    } finally {
      spy.mockRestore();
      if (saved !== undefined) process.env.MEDUS_MODEL = saved;
    }
    expect(host.code).toBe(0);
    const info = JSON.parse(out) as { model: { dir: string; source: string }; runtime: string };
    expect(info.model).toMatchObject({ dir: join(ROOT, 'models', 'medus-s-v1'), source: 'bundled' });
    expect(info.runtime).toMatch(/^Node\.js /); // under Electron it names the app's runtime instead
  }, 60_000);
});
