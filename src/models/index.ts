/**
 * Model packages (docs/model-package.md): the manifest and its schema, loading with every check,
 * writing manifests, the .tgz archive form, ONNX signatures and the custom TypeScript backend.
 */
export { MANIFEST_FILE, MANIFEST_FORMAT_VERSION, MODEL_NAME_PATTERN, DTYPES, manifestSchema, parseManifest, manifestJsonSchema } from './manifest.js';
export type { Manifest, TensorSpec, Dimension, Dtype } from './manifest.js';
export { loadPackage, writeManifest, type ModelPackage, type PackageFile, type ManifestDraft } from './package.js';
export { packArchive, unpackArchive, listArchive } from './archive.js';
export { readOnnxSignature, signatureDifferences, type OnnxSignature } from './onnx-signature.js';
export { loadCustomModel, type CustomModel, type LoadedCustomModel } from './custom.js';
export { sha256File, sha256Bytes, CHECKSUM_PATTERN } from './checksum.js';
export { checkRelativePath, resolveInPackage, listPackageFiles } from './paths.js';
