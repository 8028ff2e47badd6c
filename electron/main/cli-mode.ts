/**
 * The `medus` command line run by the installed app's own binary: `<app> --medus-cli <arguments>`,
 * as the launchers in resources/bin start it (build/medus, build/medus.cmd). No window opens: the
 * main process imports the bundled command line (out/cli/medus.mjs, unpacked beside the
 * node_modules it loads) and exits with its exit code.
 *
 * Why not ELECTRON_RUN_AS_NODE: the packaged binary has its runAsNode fuse off (build/
 * electron-builder.yml), so nothing, including malware, can use the signed app as a Node
 * interpreter. This mode runs only our own bundled file, chosen here, never a script named by
 * the caller.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Marks a command-line start; the launchers pass it after their Chromium switches. */
export const CLI_FLAG = '--medus-cli';

/**
 * The medus arguments of a command-line start, or null for a normal (windowed) start. Everything
 * after the flag belongs to medus; what comes before it is the binary and Chromium's switches.
 */
export function cliArguments(argv: readonly string[]): string[] | null {
  const at = argv.indexOf(CLI_FLAG, 1);
  return at < 0 ? null : argv.slice(at + 1);
}

/** Where the bundled command line is: unpacked in an installed app, in out/cli in a checkout. */
export function cliBundlePath(where: { isPackaged: boolean; resourcesPath: string; appPath: string }): string {
  return where.isPackaged ? join(where.resourcesPath, 'app.asar.unpacked', 'out', 'cli', 'medus.mjs') : join(where.appPath, 'out', 'cli', 'medus.mjs');
}

/** What this mode needs from Electron's `app` (a fake in tests). */
export interface CliHost {
  disableHardwareAcceleration(): void;
  /** macOS: no Dock icon for a command-line run */
  hideDock?: () => void;
  exit(code: number): void;
}

/** The bundle's entry: runs medus with these arguments and resolves to its exit code. */
export type CliModule = { cliEntry(argv: string[]): Promise<number> };

/** Resolves once everything written so far has been handed to the OS (pipes are async on macOS). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (!stream.writable) resolve();
    else stream.write('', () => resolve());
  });
}

/**
 * Runs the command line in this (main) process and exits with its code. Called before anything
 * else in main, so no window, tray, protocol or IPC is set up; the GPU is not used (nothing is drawn).
 */
export async function runCliInApp(args: string[], host: CliHost, load: () => Promise<CliModule>, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): Promise<void> {
  let code: number;
  // whatever goes wrong, the process must still exit: Electron's main process does not end by itself
  try {
    host.disableHardwareAcceleration();
    try {
      host.hideDock?.();
    } catch {
      // cosmetic (a Dock icon during the run); never a reason to fail the command
    }
    const cli = await load();
    code = await cli.cliEntry(args);
  } catch (err) {
    // a broken installation (the bundle missing or unloadable), not a medus error: exit 1 and say what
    stderr.write(`medus: the command line in this installation could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    code = 1;
  }
  await Promise.all([drained(stdout), drained(stderr)]);
  host.exit(code);
}

/** Loads the bundle from a file path (the dynamic import takes a URL). */
export function loadCliBundle(path: string): () => Promise<CliModule> {
  return async () => {
    const mod = (await import(pathToFileURL(path).href)) as Partial<CliModule>;
    if (typeof mod.cliEntry !== 'function') throw new Error(`${path} has no cliEntry`);
    return mod as CliModule;
  };
}
