#!/usr/bin/env node
// The `fresco` command. The CLI lives in src/cli; this file only finds its compiled form.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('fresco: not built yet (dist/ is missing). Run `npm install` (or `npm run build`) in the fresco folder.');
  process.exit(1);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
