/** File helpers for pipelines: input hashes, glob expansion, and atomic output (temp name + rename). */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, renameSync, rmSync } from 'node:fs';
import { FrescoError } from '../errors/index.js';
import { temporarySibling } from '../util/leftovers.js';
import type { Engine } from './engine.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export const isGlob = (path: string) => /[*?[]/.test(path);

/** The files a path or glob names (sorted); errors when none exist. */
export async function expandFiles(engine: Engine, path: string, what: string): Promise<string[]> {
  if (!isGlob(path)) {
    if (!existsSync(path)) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${path}: no such file (${what})`, { location: { file: path } });
    return [path];
  }
  const rows = await engine.rows(`SELECT file FROM glob('${path.replaceAll("'", "''")}') ORDER BY file`);
  if (!rows.length) throw new FrescoError('FRESCO_ERR_NOT_FOUND', `${path}: no file matches (${what})`, { location: { file: path } });
  return rows.map((r) => String(r.file));
}

/**
 * A temporary sibling of `final`, in the same folder so that the rename is atomic. Its name carries
 * host and pid, so the next run removes it if this process is killed (util/leftovers.ts).
 */
export const temporaryPath = temporarySibling;

/** Moves finished temporary files into place, in order (the last one marks completion). */
export function commitFiles(moves: { tmp: string; final: string }[]): void {
  for (const { tmp, final } of moves) renameSync(tmp, final);
}

export function discard(paths: string[]): void {
  for (const p of paths) rmSync(p, { force: true });
}
