/**
 * The training code's hash, recorded with every version: sha256 over this folder's files (the
 * trainers, export, metrics; as .ts under the test runner, as .js when built) and the GBDT
 * engine's version. `fresco models reproduce` says when it differs.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The engine's version: a different engine (or patch) is a different training code hash. */
export const GBDT_ENGINE = 'forust-ml 0.8.0+fresco.1 (vendored: best-first leaf-wise growth)';

export function trainingCodeHash(): string {
  const dir = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256').update(`${GBDT_ENGINE}\n`);
  for (const name of readdirSync(dir).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort()) {
    hash.update(`${name}\n`).update(readFileSync(join(dir, name)));
  }
  return `sha256:${hash.digest('hex')}`;
}
