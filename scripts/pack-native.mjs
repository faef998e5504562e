#!/usr/bin/env node
// Builds the npm package that carries the prebuilt addon for one platform, as napi-rs projects
// do (`napi create-npm-dirs` + `napi artifacts`): a package named fresco-ml-<platform> holding
// fresco.<platform>.node, its package.json limited by os/cpu/libc so npm installs it only where
// it runs. fresco-ml lists these packages in its optionalDependencies (scripts/pack-release.mjs)
// and src/native.ts loads the one for the running platform. Dependency-free.
//   node scripts/pack-native.mjs [--addon native/fresco.node] [--target <rust triple>] [--out dir]
// The target defaults to this machine's; the targets come from native/binding/napi.json.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const napi = JSON.parse(readFileSync(join(root, 'native', 'binding', 'napi.json'), 'utf8'));

/** napi-rs's platform names for the Rust targets this project declares (src/native.ts computes the same at run time). */
const PLATFORMS = {
  'x86_64-unknown-linux-gnu': { platform: 'linux-x64-gnu', os: 'linux', cpu: 'x64', libc: 'glibc' },
  'aarch64-unknown-linux-gnu': { platform: 'linux-arm64-gnu', os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'x86_64-unknown-linux-musl': { platform: 'linux-x64-musl', os: 'linux', cpu: 'x64', libc: 'musl' },
  'aarch64-unknown-linux-musl': { platform: 'linux-arm64-musl', os: 'linux', cpu: 'arm64', libc: 'musl' },
  'x86_64-apple-darwin': { platform: 'darwin-x64', os: 'darwin', cpu: 'x64' },
  'aarch64-apple-darwin': { platform: 'darwin-arm64', os: 'darwin', cpu: 'arm64' },
  'x86_64-pc-windows-msvc': { platform: 'win32-x64-msvc', os: 'win32', cpu: 'x64' },
};

/** The targets declared in native/binding/napi.json, with their npm platform names. */
export function declaredTargets() {
  return napi.targets.map((triple) => {
    const p = PLATFORMS[triple];
    if (!p) throw new Error(`pack-native: no platform name for target ${triple} (native/binding/napi.json); add it to PLATFORMS`);
    return { triple, ...p };
  });
}

/** This machine's Rust target triple. */
export function hostTriple() {
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch];
  if (process.platform === 'darwin') return `${arch}-apple-darwin`;
  if (process.platform === 'win32') return `${arch}-pc-windows-msvc`;
  const musl = !process.report?.getReport()?.header?.glibcVersionRuntime;
  return `${arch}-unknown-linux-${musl ? 'musl' : 'gnu'}`;
}

function manifest() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
}

/**
 * Writes <out>/<name>/ (package.json, README.md, LICENSE, fresco.<platform>.node) for `triple`
 * from the built addon. Returns { name, version, dir }.
 */
export function nativePackageFolder({ addon = join(root, 'native', 'fresco.node'), triple = hostTriple(), out = join(root, 'npm') } = {}) {
  const target = declaredTargets().find((t) => t.triple === triple);
  if (!target) throw new Error(`pack-native: ${triple} is not a target in native/binding/napi.json`);
  if (!existsSync(addon)) throw new Error(`pack-native: ${addon} does not exist; build it first (npm run build:native)`);
  const main = manifest();
  const name = `${main.name}-${target.platform}`;
  const file = `${napi.binaryName}.${target.platform}.node`;
  const dir = join(resolve(out), name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  copyFileSync(addon, join(dir, file));
  const pkg = {
    name,
    version: main.version,
    description: `The ${triple} binary of ${main.name}'s native addon (installed by ${main.name}; not for direct use).`,
    license: main.license,
    main: file,
    files: [file],
    os: [target.os],
    cpu: [target.cpu],
    ...(target.libc ? { libc: [target.libc] } : {}),
    engines: main.engines,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), `# \`${name}\`\n\nThe **${triple}** binary of [${main.name}](https://www.npmjs.com/package/${main.name})'s native addon.\nnpm installs it through ${main.name}'s optionalDependencies; install ${main.name} instead.\n`);
  if (existsSync(join(root, 'LICENSE'))) copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
  return { name, version: main.version, dir };
}

/** `npm pack` of a folder into `dest`; returns { file, size, entryCount } (size: the tarball's bytes). */
export function npmPack(dir, dest) {
  mkdirSync(dest, { recursive: true });
  const result = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', resolve(dest)], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`pack-native: npm pack in ${dir} failed (exit ${result.status}):\n${result.stderr}`);
  const [info] = JSON.parse(result.stdout);
  return { file: join(resolve(dest), info.filename), size: info.size, entryCount: info.entryCount };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name) => {
    const at = process.argv.indexOf(name);
    return at > 0 ? process.argv[at + 1] : undefined;
  };
  try {
    const out = arg('--out') ?? join(root, 'npm');
    const folder = nativePackageFolder({ addon: arg('--addon'), triple: arg('--target'), out });
    const packed = npmPack(folder.dir, out);
    console.log(`pack-native: ${packed.file} (${packed.size} bytes)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
