/**
 * Every path that comes from a package or an archive is confined to the package folder: no `..`,
 * no absolute path, no symlink anywhere along it, only regular files. A model package is data
 * handed around between teams; it must never make Fresco read or write outside it.
 */
import { lstatSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { FrescoError } from '../errors/index.js';

function unsafe(file: string, problem: string): FrescoError {
  return new FrescoError('FRESCO_ERR_UNSAFE_PATH', `${file}: ${problem}`, { location: { file } });
}

/**
 * Checks a package-relative path's form (no I/O) and returns it normalized. Paths are POSIX,
 * relative, without `.`/`..` segments or backslashes, so they mean the same on every machine.
 */
export function checkRelativePath(path: string, where = path): string {
  if (path.length === 0) throw unsafe(where, 'empty path');
  if (path.includes('\0')) throw unsafe(where, 'path contains a NUL byte');
  if (path.includes('\\')) throw unsafe(where, 'path contains a backslash (package paths use /)');
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw unsafe(where, 'absolute path escapes the package');
  const segments = path.split('/');
  if (segments.includes('..')) throw unsafe(where, 'path with ".." escapes the package');
  const normalized = posix.normalize(path).replace(/\/$/, '');
  if (normalized === '.' || segments.some((s) => s === '' || s === '.')) throw unsafe(where, 'path is not in normal form (empty or "." segment)');
  return normalized;
}

/**
 * Resolves a package-relative path inside `dir`, refusing symlinks and non-regular files at
 * every step. Returns the absolute path, or undefined when the file does not exist.
 */
export function resolveInPackage(dir: string, path: string): string | undefined {
  const rel = checkRelativePath(path);
  let current = dir;
  const segments = rel.split('/');
  for (let i = 0; i < segments.length; i++) {
    current = join(current, segments[i] as string);
    let stat;
    try {
      stat = lstatSync(current);
    } catch {
      return undefined;
    }
    const shown = segments.slice(0, i + 1).join('/');
    if (stat.isSymbolicLink()) throw unsafe(shown, 'is a symlink; packages may not contain symlinks');
    const last = i === segments.length - 1;
    if (!last && !stat.isDirectory()) return undefined;
    if (last && !stat.isFile()) throw unsafe(shown, stat.isDirectory() ? 'is a folder, expected a file' : 'is not a regular file');
  }
  return current;
}

/**
 * Every regular file under `dir`, as sorted package-relative POSIX paths. A symlink or special
 * file anywhere is an error naming it, so a package cannot point outside itself.
 */
export function listPackageFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string) => {
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) throw unsafe(relPath, 'is a symlink; packages may not contain symlinks');
      if (entry.isDirectory()) walk(join(abs, entry.name), relPath);
      else if (entry.isFile()) out.push(relPath);
      else throw unsafe(relPath, 'is not a regular file');
    }
  };
  walk(dir, '');
  return out.sort();
}
