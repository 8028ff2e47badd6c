#!/usr/bin/env node
// The `medus` command: runs the TypeScript command line in this process through tsx (no build
// step, and signals reach the CLI directly so Ctrl-C and kill behave as users expect).
import { register } from 'tsx/esm/api';

register();
const { cliEntry } = await import('../electron/cli/main.ts');
await cliEntry(process.argv.slice(2));
