#!/usr/bin/env node
// Smoke test of a packaged app's command line, run by .github/workflows/installers.yml on each
// platform against the real Electron binary (which this repository's tests cannot download):
//   node build/check-installed-cli.mjs <path to resources/bin/medus or medus.cmd>
// It checks that the launcher starts the app binary in its command-line mode (no window, no
// Node.js of the machine's: the runtime `medus info` reports is the app's Electron), that the
// model is the bundled one, and that medus's exit codes reach the shell. Exits 1 with the reason.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const launcher = process.argv[2] ? resolve(process.argv[2]) : '';
if (!launcher) {
  console.error('usage: node build/check-installed-cli.mjs <resources/bin/medus or medus.cmd>');
  process.exit(2);
}

/** Runs the launcher as a user would from a terminal; a .cmd needs cmd.exe (Node refuses it otherwise). */
function medus(...args) {
  const env = { ...process.env };
  // the launcher must work without these: nobody chose a model or a Node.js
  delete env.MEDUS_MODEL;
  delete env.MEDUS_NODE;
  const windows = launcher.toLowerCase().endsWith('.cmd');
  const r = windows
    ? // /s: cmd.exe drops the outer quotes and runs `"<launcher>" args` as typed
      spawnSync('cmd.exe', ['/d', '/s', '/c', `""${launcher}" ${args.join(' ')}"`], { encoding: 'utf8', env, timeout: 180_000, windowsVerbatimArguments: true })
    : spawnSync(launcher, args, { encoding: 'utf8', env, timeout: 180_000 });
  return { code: r.status, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}

const failures = [];
const info = medus('info', '--provider', 'cpu');
if (info.code !== 0) failures.push(`medus info exited ${info.code}:\n${info.err}`);
else {
  let parsed = null;
  try {
    parsed = JSON.parse(info.out);
  } catch {
    failures.push(`medus info did not print JSON:\n${info.out}\n${info.err}`);
  }
  if (parsed) {
    console.log(JSON.stringify({ model: parsed.model, runtime: parsed.runtime, provider: parsed.provider?.active }, null, 2));
    if (parsed.model?.source !== 'bundled') failures.push(`the model is not the bundled one: ${JSON.stringify(parsed.model)}`);
    if (!/^MedUS Workstation \(Electron /.test(parsed.runtime ?? '')) failures.push(`not run by the app's own binary: runtime ${parsed.runtime}`);
  }
}
const usage = medus('segment', '--bogus');
if (usage.code !== 2) failures.push(`a usage error should exit 2 through the launcher, got ${usage.code}:\n${usage.err}`);

if (failures.length) {
  console.error(`installed command line check failed (${launcher}):\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`installed command line OK: ${launcher}`);
