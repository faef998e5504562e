#!/usr/bin/env node
// Makes a checkout ready to run: installs npm dependencies when they are missing or older than
// package-lock.json, then builds (native addon and TypeScript, both incremental). Dependency-free,
// so it runs on a fresh clone before anything is installed. `npm run quickstart` and `npm test`
// start with it, which is what lets the README's two commands work on a fresh machine.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`fresco setup: \`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

const needsInstall = !existsSync(installed) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs);
if (needsInstall) {
  console.error('fresco setup: installing dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
// The build is not a `prepare` script: npm lists a dependency's `prepare` among the install
// scripts a user must review, and a user's install has nothing to build (the addon is prebuilt).
run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
