#!/usr/bin/env node
// Builds the native addon (the Rust crates in native/) into native/fresco.node, a stable path
// that src/native.ts loads. Uses @napi-rs/cli (`napi build`); if that CLI is missing or fails,
// falls back to plain `cargo build` and copies the library. Dependency-free.
//   node scripts/build-native.mjs           release build
//   node scripts/build-native.mjs --debug   debug build
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const manifest = join(nativeDir, 'binding', 'Cargo.toml');
const target = join(nativeDir, 'fresco.node');

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    child.on('error', (error) => resolve({ code: -1, error }));
    child.on('exit', (code, signal) => resolve({ code: code ?? -1, signal }));
  });
}

function napiCli() {
  try {
    const pkg = createRequire(import.meta.url).resolve('@napi-rs/cli/package.json');
    const cli = join(dirname(pkg), 'dist', 'cli.js');
    return existsSync(cli) ? cli : undefined;
  } catch {
    return undefined;
  }
}

/** The cdylib cargo writes for the binding crate (fresco-node) on this platform. */
function cargoArtifact(profileDir) {
  const names = { win32: 'fresco_node.dll', darwin: 'libfresco_node.dylib' };
  return join(nativeDir, 'target', profileDir, names[process.platform] ?? 'libfresco_node.so');
}

/**
 * Builds native/fresco.node. Resolves when the addon is in place; rejects when the build fails.
 * @param {{ release?: boolean }} [options]
 */
export async function buildNative({ release = true } = {}) {
  // Two cores on the build machines: cap cargo's parallelism unless the caller chose one.
  const env = { ...process.env, CARGO_BUILD_JOBS: process.env.CARGO_BUILD_JOBS ?? '2' };
  const before = existsSync(target) ? statSync(target).mtimeMs : undefined;

  const cli = napiCli();
  if (cli) {
    const args = [
      cli, 'build',
      '--manifest-path', manifest,
      '--config-path', join(nativeDir, 'binding', 'napi.json'),
      '--package-json-path', join(root, 'package.json'),
      '--output-dir', nativeDir,
      ...(release ? ['--release'] : []),
    ];
    const result = await run(process.execPath, args, env);
    if (result.code === 0 && existsSync(target) && (before === undefined || statSync(target).mtimeMs >= before)) return target;
    console.warn(`fresco build:native: \`napi build\` failed (${result.error?.message ?? `exit ${result.code}`}); retrying with cargo directly`);
  } else {
    console.warn('fresco build:native: @napi-rs/cli not found; building with cargo directly');
  }

  const args = ['build', '--manifest-path', manifest, '-p', 'fresco-node', ...(release ? ['--release'] : [])];
  const result = await run('cargo', args, env);
  if (result.code !== 0) {
    throw new Error(`fresco build:native: cargo build failed (${result.error?.message ?? `exit ${result.code}`})`);
  }
  const artifact = cargoArtifact(release ? 'release' : 'debug');
  if (!existsSync(artifact)) throw new Error(`fresco build:native: cargo did not produce ${artifact}`);
  // Copy beside the target, then rename: a process that has the old addon loaded keeps its
  // (unlinked) file instead of seeing it rewritten under it.
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    copyFileSync(artifact, tmp);
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
  return target;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const path = await buildNative({ release: !process.argv.includes('--debug') });
    console.log(`fresco build:native: ${path}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
