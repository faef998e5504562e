/**
 * Temporary files and scratch folders named after the process that owns them
 * (`<host>-<pid>-<random>`, as the registry names its staging folders), so that the next run of a
 * command can remove what a killed run left behind (SIGKILL runs no cleanup) without touching
 * the temporaries of a writer that is still running: only names of this host whose process is
 * gone are removed. A pid reused by an unrelated live process keeps its leftover (the safe side).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

/** `<host>-<pid>-<random hex>`: who owns a temporary. */
export function ownerTag(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

const TAG = /^(?:(.+)-)?(\d+)-[0-9a-f]+$/;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `tag` names a process of this host that is no longer running. A tag without a host
 * (`<pid>-<hex>`, as earlier versions named lake and dataset temporaries) counts as this host's.
 */
export function isLeftover(tag: string): boolean {
  const m = TAG.exec(tag);
  if (!m) return false;
  if (m[1] !== undefined && m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !isAlive(pid);
}

const TMP = '.tmp-';

/** A hidden temporary sibling of `final` (`.<name>.tmp-<owner>`), in its folder so the rename into place is atomic. */
export function temporarySibling(final: string): string {
  mkdirSync(dirname(final), { recursive: true });
  return join(dirname(final), `.${basename(final)}${TMP}${ownerTag()}`);
}

function entries(dir: string): string[] {
  try {
    return existsSync(dir) ? readdirSync(dir) : [];
  } catch {
    return [];
  }
}

/**
 * Removes the temporaries (`.<name>.tmp-<owner>`) in `dir` that dead processes left, for the
 * final names `which` accepts. Returns the paths removed.
 */
export function removeLeftoverTemporaries(dir: string, which: (finalName: string) => boolean): string[] {
  const removed: string[] = [];
  for (const name of entries(dir)) {
    const at = name.lastIndexOf(TMP);
    if (!name.startsWith('.') || at < 2) continue;
    if (!which(name.slice(1, at)) || !isLeftover(name.slice(at + TMP.length))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}

/** removeLeftoverTemporaries for the temporaries of one final file. */
export function removeLeftoverTemporariesOf(final: string): string[] {
  const name = basename(final);
  return removeLeftoverTemporaries(dirname(final), (n) => n === name);
}

/** A fresh scratch folder `<parent>/<prefix><owner>` for this process; remove it when done. */
export function scratchDir(parent: string, prefix: string): string {
  const dir = join(parent, `${prefix}${ownerTag()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Removes the scratch folders `<parent>/<prefix><owner>` that dead processes left. Returns the paths removed. */
export function removeLeftoverScratchDirs(parent: string, prefix: string): string[] {
  const removed: string[] = [];
  for (const name of entries(parent)) {
    if (!name.startsWith(prefix) || !isLeftover(name.slice(prefix.length))) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
    removed.push(join(parent, name));
  }
  return removed;
}
