#!/usr/bin/env node
// Builds Fresco: the Rust addon (native/fresco.node, via @napi-rs/cli) and the TypeScript (dist/).
// Both steps are incremental, so running it on an up-to-date tree takes a second or two.
//   node scripts/build.mjs                 native + TypeScript
//   node scripts/build.mjs --native-only   the addon alone
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await buildNative({ release: true });
if (!process.argv.includes('--native-only')) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('fresco build: TypeScript compilation failed');
    process.exit(1);
  }
}
