#!/usr/bin/env -S node --no-memory-reducer
// The `fresco` command. The CLI lives in src/cli; this file only finds its compiled form.
// --no-memory-reducer: V8's memory reducer takes a server whose request path allocates little
// for an idle process, and runs major collections ~8 s after each one to shrink the heap; on the
// event loop of `fresco serve` each costs milliseconds of marking and a pause (docs/serving.md,
// "Process flags"). For short commands it changes nothing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('fresco: not built yet (dist/ is missing). Run `npm install` (or `npm run build`) in the fresco folder.');
  process.exit(1);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv);
