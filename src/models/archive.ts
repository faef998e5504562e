/**
 * The single-file form of a package: a gzipped tar (`.tgz`) of the package folder's files, which
 * `tar tzf` can list. Packing writes to a temporary name and renames. Unpacking lists every entry
 * first and refuses the whole archive if one is not a plain file or folder, or its path is
 * absolute or climbs out with `..`, naming the entry; only then are files extracted.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import * as tar from 'tar';
import { FrescoError } from '../errors/index.js';
import { removeLeftoverTemporariesOf, temporarySibling } from '../util/leftovers.js';
import type { ModelPackage } from './package.js';
import { checkRelativePath } from './paths.js';

/**
 * Writes `pkg` as a .tgz archive at `file` (atomically: a killed export leaves no partial file,
 * only a temporary beside it, which the next export to `file` removes: util/leftovers.ts).
 */
export async function packArchive(pkg: ModelPackage, file: string): Promise<void> {
  removeLeftoverTemporariesOf(file);
  const tmp = temporarySibling(file);
  try {
    // Sorted paths, a fixed mtime and no owner data: the same package packs to the same bytes.
    await tar.create({ file: tmp, cwd: pkg.dir, gzip: true, portable: true, mtime: new Date(0), noDirRecurse: true }, pkg.files.map((f) => f.path));
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Lists an archive's entries, refusing anything but plain files and folders inside the package. */
export async function listArchive(file: string): Promise<string[]> {
  const paths: string[] = [];
  let problem: FrescoError | undefined;
  try {
    await tar.list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (problem) return;
        const raw = entry.path;
        const path = raw.replace(/^\.\//, '').replace(/\/$/, '');
        const where = `${file}: entry ${raw}`;
        try {
          if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
            throw new FrescoError('FRESCO_ERR_UNSAFE_PATH', `${where}: is a ${entry.type === 'Link' ? 'hard link' : 'symlink'}; packages may not contain links`, { location: { file: raw } });
          }
          if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile' && entry.type !== 'Directory') {
            throw new FrescoError('FRESCO_ERR_UNSAFE_PATH', `${where}: is a ${entry.type} entry, not a plain file`, { location: { file: raw } });
          }
          if (path === '' || path === '.') return;
          checkRelativePath(path, raw);
          if (entry.type !== 'Directory') paths.push(path);
        } catch (error) {
          problem = error as FrescoError;
        }
      },
    });
  } catch (error) {
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: not a readable package archive (.tgz): ${(error as Error).message}`, { location: { file }, cause: error });
  }
  if (problem) {
    // checkRelativePath names the entry; add the archive so the user knows where it came from.
    throw new FrescoError(problem.code, problem.message.startsWith(file) ? problem.message : `${file}: ${problem.message}`, { location: { file: problem.location?.file ?? file } });
  }
  const seen = new Set<string>();
  for (const path of paths) {
    if (seen.has(path)) throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: entry ${path} appears twice`, { location: { file: path } });
    seen.add(path);
  }
  return paths;
}

/** Extracts a checked archive into `dest` (a new, empty folder) and returns the file paths. */
export async function unpackArchive(file: string, dest: string): Promise<string[]> {
  const paths = await listArchive(file);
  mkdirSync(dest, { recursive: true });
  try {
    await tar.extract({ file, cwd: dest, strict: true, preservePaths: false, noChmod: true, filter: (_p, entry) => 'type' in entry && (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile' || entry.type === 'Directory') });
  } catch (error) {
    rmSync(dest, { recursive: true, force: true });
    throw new FrescoError('FRESCO_ERR_PACKAGE_INVALID', `${file}: cannot extract: ${(error as Error).message}`, { location: { file }, cause: error });
  }
  return paths;
}
