// Model packages: the committed examples, the manifest schema, every rejection, the custom backend.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateExamples, schemaText } from '../models/generate.js';
import { FrescoError } from '../src/errors/index.js';
import { loadCustomModel, loadPackage, manifestJsonSchema, type ManifestDraft, writeManifest } from '../src/models/index.js';
import { planHash } from '../src/models/checksum.js';

const root = join(import.meta.dirname, '..');
const examples = join(root, 'models');
const work = mkdtempSync(join(tmpdir(), 'fresco-models-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A writable copy of an example package. */
function copy(name: string): string {
  const dir = join(work, `${name}-${n++}`);
  cpSync(join(examples, name), dir, { recursive: true });
  return dir;
}
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'fresco.json'), 'utf8')) as Record<string, any>;
const writeRaw = (dir: string, manifest: unknown) => writeFileSync(join(dir, 'fresco.json'), JSON.stringify(manifest, null, 2));
/** Rewrites fresco.json with recomputed checksums, keeping the edited fields. */
async function rewrite(dir: string, edit: (m: Record<string, any>) => void): Promise<unknown> {
  const m = manifestOf(dir);
  edit(m);
  const { format_version: _f, files: _files, plan_hash: _h, ...draft } = m;
  try {
    return await writeManifest(dir, draft as ManifestDraft);
  } catch (error) {
    return error;
  }
}
async function rejection(dir: string): Promise<FrescoError> {
  try {
    await loadPackage(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(FrescoError);
    return error as FrescoError;
  }
  throw new Error(`${dir} was accepted`);
}

describe('example packages', () => {
  it('load with every check passing', async () => {
    for (const name of ['flights-delay', 'mlp-50', 'custom-threshold', 'numpy-delay']) {
      const pkg = await loadPackage(join(examples, name));
      expect(pkg.manifest.name).toBe(name);
      expect(pkg.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    const flights = await loadPackage(join(examples, 'flights-delay'));
    expect(flights.manifest.input_kind).toBe('dataframe');
    expect(flights.plan?.outputs.length).toBe(13);
    expect(flights.manifest.plan_hash).toBe(planHash(flights.manifest.plan));
  });

  it('are exactly what models/generate.ts writes (byte for byte)', async () => {
    const out = await generateExamples(join(work, 'generated'));
    for (const [name, dir] of Object.entries(out)) {
      const fresh = await loadPackage(dir);
      const committed = await loadPackage(join(examples, name));
      expect(fresh.files, name).toEqual(committed.files);
    }
  });

  it('keeps manifest.schema.json in step with the zod schema', () => {
    const committed = JSON.parse(readFileSync(join(root, 'src', 'models', 'manifest.schema.json'), 'utf8'));
    expect(committed, 'run `npx tsc -p tsconfig.json && node dist/models/generate.js` to regenerate').toEqual(manifestJsonSchema());
    expect(JSON.parse(schemaText())).toEqual(committed);
    expect(committed.additionalProperties).toBe(false);
  });
});

describe('manifest validation', () => {
  it('rejects an unknown key, naming its path', async () => {
    const dir = copy('mlp-50');
    const m = manifestOf(dir);
    m.signature.inputs[0].layout = 'NCHW';
    writeRaw(dir, m);
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_MANIFEST_INVALID');
    expect(e.message).toBe('fresco.json: key "signature.inputs[0].layout": unknown key');
  });

  it('rejects a missing key and a wrong type, naming the key', async () => {
    const dir = copy('mlp-50');
    const m = manifestOf(dir);
    delete m.input_kind;
    writeRaw(dir, m);
    expect((await rejection(dir)).message).toBe('fresco.json: key "input_kind": required key is missing');
    m.input_kind = 'tensor';
    m.signature.outputs[0].dtype = 'float128';
    writeRaw(dir, m);
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_MANIFEST_INVALID');
    expect(e.message).toMatch(/^fresco\.json: key "signature\.outputs\[0\]\.dtype": /);
  });

  it('rejects an unknown backend, naming the file and the backend', async () => {
    const dir = copy('mlp-50');
    writeRaw(dir, { ...manifestOf(dir), backend: 'xgboost' });
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_MANIFEST_INVALID');
    expect(e.message).toBe('fresco.json: key "backend": unknown backend "xgboost"; expected "onnx", "custom" or "python"');
  });

  it('refuses a newer format version instead of guessing', async () => {
    const dir = copy('mlp-50');
    writeRaw(dir, { ...manifestOf(dir), format_version: 2 });
    expect((await rejection(dir)).message).toMatch(/format version 2 was written by a newer Fresco/);
  });

  it('requires a plan for dataframe input, not for tensor input, and checks its hash', async () => {
    const dir = copy('flights-delay');
    const noPlan = (await rewrite(dir, (m) => delete m.plan)) as FrescoError;
    expect(noPlan.code).toBe('FRESCO_ERR_PACKAGE_INVALID');
    expect(noPlan.message).toMatch(/key "plan": input kind "dataframe" needs the frozen feature plan/);

    const tampered = copy('flights-delay');
    const m = manifestOf(tampered);
    m.plan.ops[8].mean = 7;
    writeRaw(tampered, m);
    const e = await rejection(tampered);
    expect(e.code).toBe('FRESCO_ERR_CHECKSUM_MISMATCH');
    expect(e.message).toMatch(/^fresco\.json: key "plan_hash": checksum mismatch/);

    const badPlan = copy('flights-delay');
    const err = (await rewrite(badPlan, (x) => (x.plan.ops[0].op = 'explode'))) as FrescoError;
    expect(err.code).toBe('FRESCO_ERR_PLAN_INVALID');
    expect(err.message).toMatch(/^fresco\.json: key "plan": /);

    const wrongWidth = copy('flights-delay');
    const w = (await rewrite(wrongWidth, (x) => (x.plan.outputs = x.plan.outputs.slice(1)) && delete x.plan.output_names)) as FrescoError;
    expect(w.code).toBe('FRESCO_ERR_SIGNATURE_MISMATCH');
    expect(w.message).toMatch(/one float32 input of shape \[batch, 12\]/);
  });
});

describe('package files', () => {
  it('rejects a missing file, naming it', async () => {
    const dir = copy('mlp-50');
    rmSync(join(dir, 'model.onnx'));
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_PACKAGE_INVALID');
    expect(e.message).toBe('model.onnx: missing: listed in fresco.json but not in the package');
  });

  it('rejects a checksum mismatch, naming the file', async () => {
    const dir = copy('custom-threshold');
    writeFileSync(join(dir, 'threshold.json'), '{"threshold": 0.9}\n');
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_CHECKSUM_MISMATCH');
    expect(e.message).toMatch(/^threshold\.json: checksum mismatch: the file's sha256 is sha256:[0-9a-f]{64}, fresco\.json records sha256:/);
  });

  it('rejects a file that is not listed', async () => {
    const dir = copy('mlp-50');
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    expect((await rejection(dir)).message).toBe('notes.txt: not listed in fresco.json "files" (every file of a package is checksummed)');
  });

  it('rejects paths that escape the package: "..", absolute, symlink', async () => {
    for (const path of ['../outside.bin', '/etc/passwd', 'a/../../b']) {
      const dir = copy('mlp-50');
      const m = manifestOf(dir);
      m.files[path] = m.files['model.onnx'];
      writeRaw(dir, m);
      const e = await rejection(dir);
      expect(e.code, path).toBe('FRESCO_ERR_UNSAFE_PATH');
      expect(e.message.startsWith(`${path}: `), e.message).toBe(true);
    }
    const dir = copy('mlp-50');
    symlinkSync('/etc/hostname', join(dir, 'linked.txt'));
    const e = await rejection(dir);
    expect(e.code).toBe('FRESCO_ERR_UNSAFE_PATH');
    expect(e.message).toBe('linked.txt: is a symlink; packages may not contain symlinks');

    const model = copy('mlp-50');
    rmSync(join(model, 'model.onnx'));
    symlinkSync(join(examples, 'mlp-50', 'model.onnx'), join(model, 'model.onnx'));
    expect((await rejection(model)).code).toBe('FRESCO_ERR_UNSAFE_PATH');
  });
});

describe('ONNX signature check', () => {
  const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
    ['wrong input name', (m) => (m.signature.inputs[0].name = 'features'), /declared input "features" is not a graph input \(the model has "x"\); graph input "x" is not declared/],
    ['wrong width', (m) => (m.signature.inputs[0].shape = ['batch', 49]), /input "x" has shape \[batch, 50\] in the model, declared \[batch, 49\]/],
    ['wrong rank', (m) => (m.signature.outputs[0].shape = ['batch']), /output "y" has shape \[batch, 1\] in the model, declared \[batch\]/],
    ['wrong dtype', (m) => (m.signature.inputs[0].dtype = 'float64'), /input "x" is float32 in the model, declared float64/],
    ['fixed for dynamic', (m) => (m.signature.inputs[0].shape = [1, 50]), /declared \[1, 50\]/],
    ['extra output', (m) => m.signature.outputs.push({ name: 'z', dtype: 'float32', shape: [null] }), /declared output "z" is not a graph output/],
  ];
  for (const [what, edit, message] of cases) {
    it(`rejects ${what}, naming the model file`, async () => {
      const e = (await rewrite(copy('mlp-50'), edit)) as FrescoError;
      expect(e.code).toBe('FRESCO_ERR_SIGNATURE_MISMATCH');
      expect(e.message).toMatch(/^model\.onnx: the model does not match the declared signature: /);
      expect(e.message).toMatch(message);
    });
  }

  it('accepts any dynamic name (null or symbolic) for a dynamic dimension', async () => {
    const ok = await rewrite(copy('mlp-50'), (m) => (m.signature.inputs[0].shape = [null, 50]));
    expect(ok).not.toBeInstanceOf(Error);
  });

  it('rejects a file that is not ONNX', async () => {
    const dir = copy('mlp-50');
    writeFileSync(join(dir, 'model.onnx'), 'not a model at all');
    const e = (await rewrite(dir, () => {})) as FrescoError;
    expect(e.code).toBe('FRESCO_ERR_PACKAGE_INVALID');
    expect(e.message).toMatch(/^model\.onnx: not a valid ONNX model/);
  });
});

describe('custom backend', () => {
  it('loads model.ts and predicts', async () => {
    const pkg = await loadPackage(join(examples, 'custom-threshold'));
    const model = await loadCustomModel(join(pkg.dir, pkg.manifest.model), pkg.dir, pkg.manifest);
    const out = (await model.predict({ score: Float32Array.from([0.2, 0.5, 0.9]) })) as { label: Float32Array };
    expect(Array.from(out.label)).toEqual([0, 1, 1]);
  });

  it('rejects a model.ts that does not export predict(), naming the file', async () => {
    const dir = copy('custom-threshold');
    writeFileSync(join(dir, 'model.ts'), 'export function load() { return 1; }\nexport const threshold = 0.5;\n');
    const e = (await rewrite(dir, () => {})) as FrescoError;
    expect(e.code).toBe('FRESCO_ERR_PACKAGE_INVALID');
    expect(e.message).toBe('model.ts: a custom model must export predict()');
  });

  it('accepts exports written as export { ... } and const arrow functions', async () => {
    const dir = copy('custom-threshold');
    writeFileSync(join(dir, 'model.ts'), 'const load = () => 1;\nexport const predict = (s: number) => s;\nexport { load };\n');
    expect(await rewrite(dir, () => {})).not.toBeInstanceOf(Error);
  });
});

