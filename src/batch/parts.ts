/**
 * Splitting the input into parts, and parts into shards. A part is a fixed range of rows of one
 * input file; parts are numbered in the order of the sorted file list, and part k belongs to
 * shard k mod n. So the split depends only on the files and --part-rows: n machines (a Kubernetes
 * Indexed Job) given the same arguments score disjoint parts that together cover every row, and
 * a rerun finds its finished parts by name.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { FrescoError } from '../errors/index.js';
import type { OfflineEngine } from '../offline/index.js';
import { describeHdf5, fileFormat, quoteString } from '../offline/index.js';

export interface InputFile {
  /** Position in the sorted input list. */
  index: number;
  path: string;
  format: 'parquet' | 'csv' | 'h5';
  rows: number;
}

export interface Part {
  /** Global part number (shard = ordinal mod n). */
  ordinal: number;
  file: InputFile;
  /** Rows [start, end) of the file, 0-based. */
  start: number;
  end: number;
  /** Stable name: `part-<file index>-<first row>` (zero-padded). */
  id: string;
}

export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard i/n` (0 <= i < n). */
export function parseShard(text: string | undefined): Shard {
  if (text === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--shard "${text}" is invalid: expected i/n with 0 <= i < n, e.g. 0/4 (a Kubernetes Indexed Job passes $JOB_COMPLETION_INDEX as i)`);
  }
  return { index, count };
}

const hasGlob = (p: string) => /[*?[]/.test(p);

/** Expands the --input patterns into sorted, de-duplicated files; a pattern matching nothing is an error. */
export async function expandInputs(engine: OfflineEngine, patterns: string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const pattern of patterns) {
    const path = resolve(pattern);
    if (!hasGlob(pattern)) {
      if (!existsSync(path)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${pattern}: no such input file`, { location: { file: pattern } });
      if (statSync(path).isDirectory()) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `${pattern}: is a folder; give a file or a glob such as "${pattern}/*.parquet"`, { location: { file: pattern } });
      files.add(path);
      continue;
    }
    const rows = await engine.rows(`SELECT file FROM glob(${quoteString(path)}) ORDER BY file`);
    if (!rows.length) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${pattern}: no file matches`, { location: { file: pattern } });
    for (const r of rows) files.add(String(r.file));
  }
  return [...files].sort();
}

/** Counts each file's rows (Parquet from its footer, HDF5 from its group, CSV by a scan). */
export async function describeInputs(engine: OfflineEngine, paths: string[], h5Group?: string): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const [index, path] of paths.entries()) {
    const format = fileFormat(path);
    let rows: number;
    try {
      if (format === 'h5') rows = (await describeHdf5(path, h5Group)).rows;
      else {
        const scan = format === 'parquet' ? `read_parquet(${quoteString(path)})` : `read_csv(${quoteString(path)}, header = true)`;
        rows = Number((await engine.rows(`SELECT count(*) AS n FROM ${scan}`))[0]!.n);
      }
    } catch (error) {
      if (error instanceof FrescoError) throw error;
      throw new FrescoError('FRESCO_ERR_DATA_INVALID', `${path}: cannot read it: ${(error as Error).message.split('\n')[0]}`, { location: { file: path }, cause: error });
    }
    out.push({ index, path, format, rows });
  }
  return out;
}

/** Every part of every file, in order. */
export function splitParts(files: InputFile[], partRows: number): Part[] {
  if (!Number.isSafeInteger(partRows) || partRows < 1) throw new FrescoError('FRESCO_ERR_INVALID_ARGUMENT', `--part-rows must be a positive integer, got ${partRows}`);
  const parts: Part[] = [];
  for (const file of files) {
    for (let start = 0; start < file.rows; start += partRows) {
      const end = Math.min(file.rows, start + partRows);
      parts.push({ ordinal: parts.length, file, start, end, id: `part-${String(file.index).padStart(5, '0')}-${String(start).padStart(12, '0')}` });
    }
  }
  return parts;
}

export function shardParts(parts: Part[], shard: Shard): Part[] {
  return parts.filter((p) => p.ordinal % shard.count === shard.index);
}

/** A short description for messages: `flights.parquet rows 0..262143`. */
export function describePart(part: Part): string {
  return `${basename(part.file.path)} rows ${part.start}..${part.end - 1}`;
}
