/**
 * `fresco models image <ref> --out dir/` (docs/deploy.md, "One model's image"): a Docker build
 * context for one image that serves and batch-scores one registered version. Nothing is built
 * here; `docker build dir/` does it:
 *
 *   dir/Dockerfile   FROM the Fresco image (docker/Dockerfile; ARG FRESCO_IMAGE), packages.txt
 *                    installed with apt-get, the package copied in, then `fresco models register`
 *                    at build time into the image's own registry, which checks the package and, for
 *                    a Python package, builds its environment from requirements.txt with pip
 *                    (into /opt/model/python-envs: the base image's FRESCO_PYTHON_ENVS is a volume,
 *                    and what a build step writes under a volume is discarded). CMD serves it; the
 *                    base image's entrypoint runs `batch score` with the same image.
 *   dir/package/     the version's files, byte for byte (its checksum is re-verified at register)
 *   dir/image.json   where it came from: name, version, package checksum, base image
 *
 * Every path written stays inside `dir` (package paths are checked again here, not only at
 * registration), and `dir` must be empty or absent: nothing of the user's is overwritten.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { packageVersion } from '../package-root.js';
import type { ModelPackage } from './index.js';

/** Where the image keeps the model (the registry, the package, the Python environments). */
export const IMAGE_MODEL_DIR = '/opt/model';
/** The alias the image's registry points at the version; CMD and batch name `<model>@image`. */
export const IMAGE_ALIAS = 'image';
/** A Debian package name (as packages.txt is checked at registration: src/models/python-package.ts). */
const DEBIAN_NAME = /^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$/;

export interface ImageSource {
  name: string;
  version: number;
  packageChecksum: string;
}

export interface ImageContext {
  dir: string;
  files: string[];
  baseImage: string;
  ref: string;
  systemPackages: string[];
}

/** The default base image: the Fresco image of this version, as docs/deploy.md tags it. */
export const defaultBaseImage = () => `fresco:${packageVersion()}`;

function confined(root: string, path: string): string {
  const target = resolve(root, path);
  const rel = relative(root, target);
  if (isAbsolute(path) || rel.startsWith('..') || isAbsolute(rel) || rel === '') {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${path}: a package path must stay inside the package; the image context is not written`, { location: { file: path } });
  }
  return target;
}

/** packages.txt's names (comments and blanks dropped), each checked as a Debian package name: they go on a RUN line. */
export function imageSystemPackages(text: string): string[] {
  const names: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const name = raw.replace(/#.*/, '').trim();
    if (!name) return;
    if (!DEBIAN_NAME.test(name)) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `packages.txt:${i + 1}: ${JSON.stringify(name)} is not a system package name (one Debian package a line)`, { location: { file: 'packages.txt', line: i + 1 } });
    names.push(name);
  });
  return names;
}

export function dockerfile(source: ImageSource, pkg: ModelPackage, baseImage: string, systemPackages: string[]): string {
  const ref = `${source.name}@${IMAGE_ALIAS}`;
  const registry = `${IMAGE_MODEL_DIR}/registry`;
  const lines = [
    `# One image that serves and batch-scores ${source.name}@${source.version} (backend ${pkg.manifest.backend}).`,
    `# Written by \`fresco models image\` (docs/deploy.md, "One model's image"). Build it here:`,
    `#   docker build -t ${source.name.toLowerCase()}:${source.version} .`,
    `# The base is the Fresco image (docker/Dockerfile), built first or pulled: --build-arg FRESCO_IMAGE=...`,
    `ARG FRESCO_IMAGE=${baseImage}`,
    'FROM ${FRESCO_IMAGE}',
    `LABEL org.opencontainers.image.title="${source.name}" ai.fresco.model.version="${source.version}" ai.fresco.package.checksum="${source.packageChecksum}"`,
  ];
  if (systemPackages.length) {
    lines.push(
      '# packages.txt: the system packages the model needs.',
      'USER root',
      'RUN apt-get update \\',
      ` && apt-get install -y --no-install-recommends ${systemPackages.join(' ')} \\`,
      ' && rm -rf /var/lib/apt/lists/*',
    );
  }
  lines.push(
    '# The Python environments live in the image, not under the base image volume /var/lib/fresco.',
    `ENV FRESCO_PYTHON_ENVS=${IMAGE_MODEL_DIR}/python-envs`,
    'USER root',
    `RUN mkdir -p ${IMAGE_MODEL_DIR} && chown node:node ${IMAGE_MODEL_DIR}`,
    'USER node',
    `COPY --chown=node:node package ${IMAGE_MODEL_DIR}/package`,
    `# Registering checks the package (checksums, manifest${pkg.manifest.backend === 'python' ? ', model.py' : ''}) and${pkg.manifest.backend === 'python' ? ' builds its environment from requirements.txt with pip, and' : ''} points ${ref} at it.`,
    `RUN fresco models register ${IMAGE_MODEL_DIR}/package --registry ${registry} --name ${source.name} --alias ${IMAGE_ALIAS}`,
    `WORKDIR ${IMAGE_MODEL_DIR}`,
    `# Serve (the default), or batch-score with the same image through the base entrypoint:`,
    `#   docker run IMAGE batch score ${ref} --registry ${registry} --input '/data/in/*.parquet' --output /data/out/`,
    `# Dataframe models that look features up add --project <folder with fresco.yaml> (the online store).`,
    `CMD ["serve", "--host", "0.0.0.0", "--registry", "${registry}", "--models", "${ref}"]`,
  );
  return `${lines.join('\n')}\n`;
}

/** Writes the build context for `pkg` (a materialized, verified registry version) into `out`. */
export function writeImageContext(source: ImageSource, pkg: ModelPackage, out: string, baseImage = defaultBaseImage()): ImageContext {
  const dir = resolve(out);
  if (existsSync(dir) && readdirSync(dir).length) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${dir}: the image context folder must be empty or absent (nothing is overwritten)`, { location: { file: dir } });
  if (/\s/.test(baseImage) || !baseImage) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--base-image ${JSON.stringify(baseImage)}: not an image reference`);
  const packageRoot = join(dir, 'package');
  const paths = ['fresco.json', ...Object.keys(pkg.manifest.files)];
  // Every target is checked before anything is written.
  const targets = paths.map((p) => [confined(pkg.dir, p), confined(packageRoot, p)] as const);
  const systemPackages = Object.hasOwn(pkg.manifest.files, 'packages.txt') ? imageSystemPackages(readFileSync(confined(pkg.dir, 'packages.txt'), 'utf8')) : [];
  mkdirSync(packageRoot, { recursive: true });
  for (const [from, to] of targets) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
  writeFileSync(join(dir, 'Dockerfile'), dockerfile(source, pkg, baseImage, systemPackages));
  const info = { model: source.name, version: source.version, package_checksum: source.packageChecksum, backend: pkg.manifest.backend, base_image: baseImage, ref_in_image: `${source.name}@${IMAGE_ALIAS}`, registry_in_image: `${IMAGE_MODEL_DIR}/registry`, system_packages: systemPackages, written_by: `fresco ${packageVersion()}` };
  writeFileSync(join(dir, 'image.json'), `${JSON.stringify(info, null, 2)}\n`);
  return { dir, files: ['Dockerfile', 'image.json', ...paths.map((p) => `package/${p}`)], baseImage, ref: info.ref_in_image, systemPackages };
}
