/**
 * Where a batch job writes, and how it makes writes safe. A folder output holds one file per part
 * (`part-<file>-<row>.parquet|.h5`), each written under a hidden temporary name and renamed when
 * complete, an error file per part that had bad rows, and `_SUCCESS-shard-<i>-of-<n>.json` once a
 * shard's parts are all done. A file output is built the same way in a hidden work folder beside
 * it, then merged into the file (temporary name, then rename) and the work folder removed.
 * `_batch.json` records what the parts were scored with, so a rerun only reuses matching parts.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { removeLeftoverTemporariesOf, temporarySibling } from '../util/leftovers.js';
import type { Part, Shard } from './parts.js';

export type OutputFormat = 'parquet' | 'h5';

export interface OutputLayout {
  mode: 'file' | 'folder';
  /** The final file (file mode) or the folder (folder mode). */
  target: string;
  /** Folder holding the parts. */
  partsDir: string;
  /** Format of the part files. */
  partFormat: OutputFormat;
  /** Format of the final file (file mode). */
  format: OutputFormat;
}

const EXT: Record<OutputFormat, string> = { parquet: '.parquet', h5: '.h5' };

function formatOf(path: string): OutputFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet';
  if (ext === '.h5' || ext === '.hdf5') return 'h5';
  return undefined;
}

export function planOutput(output: string, options: { format?: string; shard: Shard }): OutputLayout {
  const target = resolve(output);
  if (options.format !== undefined && options.format !== 'parquet' && options.format !== 'h5') {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--format "${options.format}" is invalid: expected parquet or h5`);
  }
  const fileFormat = formatOf(target);
  const isDir = existsSync(target) && statSync(target).isDirectory();
  if (fileFormat && !isDir) {
    if (options.shard.count > 1) {
      throw new FrescoError('FRESCO_ERR_USAGE', `--shard ${options.shard.index}/${options.shard.count} writes one part per file: give --output a folder, not ${output}`);
    }
    if (options.format && options.format !== fileFormat) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--format ${options.format} contradicts the output file name ${output}`);
    return { mode: 'file', target, partsDir: join(dirname(target), `.${basename(target)}.parts`), partFormat: 'parquet', format: fileFormat };
  }
  const format = (options.format ?? 'parquet') as OutputFormat;
  return { mode: 'folder', target, partsDir: target, partFormat: format, format };
}

export const partFile = (layout: OutputLayout, part: Part) => join(layout.partsDir, `${part.id}${EXT[layout.partFormat]}`);
export const partErrorFile = (layout: OutputLayout, part: Part) => join(layout.partsDir, `${part.id}.errors.jsonl`);
export const shardMarker = (layout: OutputLayout, shard: Shard) => join(layout.partsDir, `_SUCCESS-shard-${shard.index}-of-${shard.count}.json`);
export const errorFileOf = (target: string) => `${target}.errors.jsonl`;
const JOB_FILE = '_batch.json';

/** A hidden temporary sibling of `final` (same folder, so the rename is atomic), named after this process. */
export const temporaryName = temporarySibling;

/** Removes temporaries a killed run left for this file; a live writer's are left alone. */
export function removeStaleTemporaries(final: string): void {
  removeLeftoverTemporariesOf(final);
}

export function writeFileAtomic(final: string, text: string): void {
  const tmp = temporaryName(final);
  writeFileSync(tmp, text);
  renameSync(tmp, final);
}

/**
 * Prepares the parts folder for a job described by `job` (models, inputs, part size, columns).
 * Parts left by a run of the same job are reused; parts of a different job are refused (or
 * removed with `overwrite`), since mixing them would silently combine two jobs' scores.
 */
export function openPartsDir(layout: OutputLayout, job: Record<string, unknown>, overwrite: boolean): void {
  if (layout.mode === 'file' && existsSync(layout.target)) {
    if (!overwrite) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${layout.target}: exists; give --overwrite to replace it`, { location: { file: layout.target } });
  }
  const jobFile = join(layout.partsDir, JOB_FILE);
  const text = `${JSON.stringify(job, null, 2)}\n`;
  if (existsSync(jobFile)) {
    const previous = readFileSync(jobFile, 'utf8');
    if (previous !== text) {
      if (!overwrite) {
        throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${layout.partsDir}: holds parts of a different batch job (other models, inputs, columns or --part-rows; see ${JOB_FILE}); use another output or give --overwrite`, {
          location: { file: jobFile },
        });
      }
      clearParts(layout.partsDir);
    }
  } else if (layout.mode === 'folder' && existsSync(layout.partsDir) && readdirSync(layout.partsDir).some((n) => n.startsWith('part-'))) {
    if (!overwrite) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${layout.partsDir}: holds part files that no batch job description covers; use another output or give --overwrite`, { location: { file: layout.partsDir } });
    clearParts(layout.partsDir);
  }
  mkdirSync(layout.partsDir, { recursive: true });
  writeFileAtomic(jobFile, text);
}

function clearParts(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('part-') || name.startsWith('.part-') || name.startsWith('_SUCCESS') || name === JOB_FILE) rmSync(join(dir, name), { force: true });
  }
}
