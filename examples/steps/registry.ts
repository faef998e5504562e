/**
 * Quickstart step: register the example ONNX package (models/flights-delay: the flights plan and
 * an MLP over its 13 columns) in the project's registry with an alias, then show it by alias.
 */
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { ModelRegistry } from '../../src/registry/index.js';
import type { QuickstartContext } from '../context.js';

export async function registryStep(ctx: QuickstartContext): Promise<void> {
  const registry = ModelRegistry.open(join(ctx.projectDir, '.fresco', 'registry'));
  try {
    const source = join(packageRoot(), 'models', 'flights-delay');
    const started = performance.now();
    const v = await registry.register(source, {
      aliases: ['production'],
      description: 'quickstart: seeded MLP over the flights plan',
      tags: ['quickstart'],
    });
    ctx.log(`registered ${v.name}@${v.version} (alias production) in ${(performance.now() - started).toFixed(1)} ms: ${v.packageChecksum}`);
    const shown = registry.resolve('flights-delay@production');
    const input = shown.manifest.signature.inputs[0]!;
    ctx.log(`  flights-delay@production -> version ${shown.version}, ${shown.backend} model, input ${input.name} float32[${input.shape.map((d) => d ?? '?').join(', ')}], plan ${shown.planHash}`);
    const pkg = await registry.materialize('flights-delay@production');
    ctx.log(`  verified package folder for serving: ${pkg.dir} (${pkg.files.length} files)`);
  } finally {
    registry.close();
  }
}
