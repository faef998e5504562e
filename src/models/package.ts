/**
 * Loading and writing model packages: a folder holding `fresco.json` and the files it lists.
 * loadPackage checks everything a registry or a server relies on, on every load: the manifest's
 * schema, that the files present are exactly the files listed, their sha256, path safety, the
 * frozen plan and its hash, the ONNX signature, and a custom model's exports.
 */
import { closeSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FrescoError } from '../errors/index.js';
import type { Plan } from '../plan/types.js';
import { validatePlan } from '../plan/validate.js';
import { planHash, sha256Bytes, sha256File } from './checksum.js';
import { checkCustomExports } from './custom.js';
import { hashPass, openRegularFile } from './hash-pass.js';
import { MANIFEST_FILE, MANIFEST_FORMAT_VERSION, type Manifest, parseManifest } from './manifest.js';
import { checkOnnxSignature } from './onnx-signature.js';
import { checkPythonPackage } from './python-package.js';
import { checkRelativePath, listPackageFiles, resolveInPackage } from './paths.js';
import { removeLeftoverTemporariesOf, temporarySibling } from '../util/leftovers.js';

export interface PackageFile {
  /** Package-relative POSIX path. */
  path: string;
  checksum: string;
  size: number;
}

export interface ModelPackage {
  dir: string;
  manifest: Manifest;
  /** The validated plan, when the package carries one. */
  plan: Plan | undefined;
  /** sha256 of fresco.json, which records the sha256 of every other file: the package's identity. */
  checksum: string;
  /** Every file, fresco.json included, sorted by path. */
  files: PackageFile[];
}

const fail = (code: 'FRESCO_ERR_PACKAGE_INVALID' | 'FRESCO_ERR_CHECKSUM_MISMATCH' | 'FRESCO_ERR_SIGNATURE_MISMATCH', file: string, message: string, key?: string) =>
  new FrescoError(code, `${file}: ${message}`, { location: key ? { file, key } : { file } });

/**
 * A package folder's manifest and the files it lists, checked without reading any file but
 * fresco.json: the manifest's schema, that every listed path is safe and in normal form, and
 * that the files present (no symlinks or special files) are exactly the files listed.
 */
export interface PackageListing {
  dir: string;
  manifest: Manifest;
  /** fresco.json as read: its sha256 is the package checksum. */
  manifestBytes: Buffer;
  /** Listed path -> the checksum fresco.json records for it, in manifest order. */
  listed: Map<string, string>;
}

export function readPackageListing(dir: string): PackageListing {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${dir}: no such model package folder`, { location: { file: dir } });
  }
  if (!isDir) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${dir}: not a folder (a package archive is registered through the registry)`, { location: { file: dir } });

  const manifestPath = resolveInPackage(dir, MANIFEST_FILE);
  if (!manifestPath) throw fail('FRESCO_ERR_PACKAGE_INVALID', MANIFEST_FILE, `missing: a model package needs a manifest (in ${dir})`);
  const manifestBytes = readFileSync(manifestPath);
  let raw: unknown;
  try {
    raw = JSON.parse(manifestBytes.toString('utf8'));
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_MANIFEST_INVALID', `${MANIFEST_FILE}: not valid JSON: ${(error as Error).message}`, { location: { file: MANIFEST_FILE } });
  }
  const manifest = parseManifest(raw);

  // The listed files and the files present must be the same set: a missing file breaks the model,
  // an unlisted one would escape the checksum that identifies the package.
  const listed = new Map<string, string>();
  for (const [path, checksum] of Object.entries(manifest.files)) {
    const normal = checkRelativePath(path);
    if (normal !== path) throw new FrescoError('FRESCO_ERR_UNSAFE_PATH', `${path}: listed in ${MANIFEST_FILE} in a non-normal form (use ${normal})`, { location: { file: path } });
    if (path === MANIFEST_FILE) throw fail('FRESCO_ERR_PACKAGE_INVALID', MANIFEST_FILE, 'lists itself in "files"; its own checksum is the package checksum', 'files');
    listed.set(path, checksum);
  }
  const present = listPackageFiles(dir);
  for (const path of listed.keys()) {
    if (!resolveInPackage(dir, path)) throw fail('FRESCO_ERR_PACKAGE_INVALID', path, `missing: listed in ${MANIFEST_FILE} but not in the package`);
  }
  for (const path of present) {
    if (path !== MANIFEST_FILE && !listed.has(path)) throw fail('FRESCO_ERR_PACKAGE_INVALID', path, `not listed in ${MANIFEST_FILE} "files" (every file of a package is checksummed)`);
  }
  return { dir, manifest, manifestBytes, listed };
}

/** The error for a file whose sha256 is not what fresco.json records. */
export function checksumMismatch(path: string, actual: string, expected: string): FrescoError {
  return fail('FRESCO_ERR_CHECKSUM_MISMATCH', path, `checksum mismatch: the file's sha256 is ${actual}, ${MANIFEST_FILE} records ${expected}`);
}

/**
 * The checks on a package's content once its files are known to hash to the manifest's
 * checksums: the frozen plan and its hash, then the model (ONNX signature, or a custom model's
 * exports). `fileOf` maps a listed path to a readable copy of it, which need not be in the
 * package folder (the registry checks its staged copies).
 */
export async function checkPackageContents(manifest: Manifest, fileOf: (path: string) => string): Promise<Plan | undefined> {
  const plan = checkPlan(manifest);
  await nextTurn();
  await checkModel(manifest, fileOf);
  return plan;
}

/** Reads and checks a package folder; throws a FrescoError naming the file and the problem. */
export async function loadPackage(dir: string): Promise<ModelPackage> {
  const { manifest, manifestBytes, listed } = readPackageListing(dir);
  // Between the synchronous steps, a turn of the event loop: a server loads packages during hot
  // swaps, and requests must not wait for a whole package check.
  await nextTurn();
  const checksum = sha256Bytes(manifestBytes);
  const files: PackageFile[] = [{ path: MANIFEST_FILE, checksum, size: manifestBytes.length }];
  for (const [path, expected] of listed) {
    const fd = openRegularFile(join(dir, path), path);
    let actual;
    try {
      actual = await hashPass(fd);
    } finally {
      closeSync(fd);
    }
    if (actual.checksum !== expected) throw checksumMismatch(path, actual.checksum, expected);
    files.push({ path, checksum: expected, size: actual.size });
  }
  files.sort(byPath);
  await nextTurn();
  const plan = await checkPackageContents(manifest, (path) => join(dir, path));
  return { dir, manifest, plan, checksum, files };
}

/** Orders package files by path (fresco.json among them), the order ModelPackage.files promises. */
export const byPath = (a: PackageFile, b: PackageFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

function checkPlan(manifest: Manifest): Plan | undefined {
  if (manifest.plan === undefined) {
    if (manifest.plan_hash !== undefined) throw fail('FRESCO_ERR_PACKAGE_INVALID', MANIFEST_FILE, 'key "plan_hash" is set but there is no "plan"', 'plan_hash');
    if (manifest.input_kind === 'dataframe') throw fail('FRESCO_ERR_PACKAGE_INVALID', MANIFEST_FILE, 'key "plan": input kind "dataframe" needs the frozen feature plan', 'plan');
    return undefined;
  }
  let plan: Plan;
  try {
    plan = validatePlan(manifest.plan).plan;
  } catch (error) {
    if (error instanceof FrescoError) throw new FrescoError(error.code, `${MANIFEST_FILE}: key "plan": ${error.message}`, { location: { file: MANIFEST_FILE, key: 'plan' } });
    throw error;
  }
  const hash = planHash(manifest.plan);
  if (manifest.plan_hash === undefined) throw fail('FRESCO_ERR_PACKAGE_INVALID', MANIFEST_FILE, `key "plan_hash" is missing (the plan's hash is ${hash})`, 'plan_hash');
  if (manifest.plan_hash !== hash) throw fail('FRESCO_ERR_CHECKSUM_MISMATCH', MANIFEST_FILE, `key "plan_hash": checksum mismatch: the plan hashes to ${hash}, the manifest records ${manifest.plan_hash}`, 'plan_hash');
  if (manifest.input_kind === 'dataframe') {
    // The plan's matrix is the model's one input: float32, rows x plan outputs.
    const inputs = manifest.signature.inputs;
    const input = inputs[0];
    const width = plan.outputs.length;
    if (inputs.length !== 1 || !input || input.dtype !== 'float32' || input.shape.length !== 2 || input.shape[1] !== width) {
      throw fail('FRESCO_ERR_SIGNATURE_MISMATCH', MANIFEST_FILE, `key "signature.inputs": a dataframe model takes one float32 input of shape [batch, ${width}] (the plan's ${width} output columns)`, 'signature.inputs');
    }
  }
  return plan;
}

async function checkModel(manifest: Manifest, fileOf: (path: string) => string): Promise<void> {
  const file = manifest.model;
  if (!Object.hasOwn(manifest.files, file)) throw fail('FRESCO_ERR_PACKAGE_INVALID', file, `the model file (key "model") is not listed in ${MANIFEST_FILE} "files"`, 'model');
  const abs = fileOf(file);
  if (manifest.backend === 'onnx') {
    if (!file.endsWith('.onnx')) throw fail('FRESCO_ERR_PACKAGE_INVALID', file, 'the onnx backend expects a .onnx model file', 'model');
    const actual = checkOnnxSignature(abs, file, manifest.signature);
    for (const data of actual.externalData) {
      if (!Object.hasOwn(manifest.files, data)) throw fail('FRESCO_ERR_PACKAGE_INVALID', data, `external data of ${file} is not listed in ${MANIFEST_FILE} "files"`);
    }
  } else if (manifest.backend === 'python') {
    checkPythonPackage(manifest, fileOf);
  } else {
    if (!file.endsWith('.ts')) throw fail('FRESCO_ERR_PACKAGE_INVALID', file, 'the custom backend expects a TypeScript model file (model.ts)', 'model');
    await checkCustomExports(abs, file);
  }
}

/** What a package author writes; `files` and `plan_hash` are computed by writeManifest. */
export type ManifestDraft = Omit<Manifest, 'files' | 'plan_hash' | 'format_version'>;

/**
 * Writes `fresco.json` for the files in `dir` (checksumming every one), atomically, and returns
 * the loaded package. Trainers and the example generator build packages through it.
 */
export async function writeManifest(dir: string, draft: ManifestDraft): Promise<ModelPackage> {
  const files: Record<string, string> = {};
  // A manifest temporary left by a killed writer would be listed (and checksummed) as a package
  // file: remove those of dead processes first (util/leftovers.ts).
  removeLeftoverTemporariesOf(join(dir, MANIFEST_FILE));
  for (const path of listPackageFiles(dir)) {
    if (path !== MANIFEST_FILE) files[path] = (await sha256File(join(dir, path))).checksum;
  }
  const manifest: Manifest = {
    format_version: MANIFEST_FORMAT_VERSION,
    ...draft,
    ...(draft.plan === undefined ? {} : { plan_hash: planHash(draft.plan) }),
    files,
  };
  const tmp = temporarySibling(join(dir, MANIFEST_FILE));
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, join(dir, MANIFEST_FILE));
  return loadPackage(dir);
}
