/**
 * The content-addressed artifact store: every file lives once under objects/<2 hex>/<64 hex>,
 * named by its sha256. Files are first copied into a private staging folder (hashing while
 * copying, then fsync), and only renamed into objects/ inside the registering transaction, so a
 * process killed at any point leaves either nothing in objects/ or whole, correctly named files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { FrescoError } from '../errors/index.js';
import { checksumHex } from '../models/checksum.js';

export interface StagedBlob {
  checksum: string;
  /** The staged copy, or undefined when the store already holds this content. */
  tmp: string | undefined;
}

export class BlobStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
    mkdirSync(this.objectsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  path(checksum: string): string {
    const hex = checksumHex(checksum);
    return join(this.objectsDir, hex.slice(0, 2), hex);
  }

  has(checksum: string): boolean {
    return existsSync(this.path(checksum));
  }

  /** A fresh staging folder owned by this process (its name carries host and pid for the sweeper). */
  newStagingDir(): string {
    const dir = join(this.tmpDir, `${hostname()}-${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Copies `source` into `stagingDir`, hashing as it goes; the content must hash to `expected`
   * (the file may have changed since the package was checked). Skips content already stored.
   */
  stageFile(source: string, expected: string, stagingDir: string, shownAs: string): StagedBlob {
    if (this.has(expected)) return { checksum: expected, tmp: undefined };
    const tmp = join(stagingDir, checksumHex(expected));
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 20);
    const input = openSync(source, 'r');
    const output = openSync(tmp, 'wx');
    try {
      for (;;) {
        const n = readSync(input, buffer, 0, buffer.length, null);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
        let written = 0;
        while (written < n) written += writeSync(output, buffer, written, n - written);
      }
      fsyncSync(output);
    } finally {
      closeSync(input);
      closeSync(output);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== expected) {
      throw new FrescoError('FRESCO_ERR_CHECKSUM_MISMATCH', `${shownAs}: checksum mismatch while copying: the file's sha256 is ${actual}, expected ${expected} (was it changed during registration?)`, { location: { file: shownAs } });
    }
    return { checksum: expected, tmp };
  }

  /** Stages bytes (a report, for instance); returns their checksum. */
  stageBytes(bytes: Uint8Array, stagingDir: string): StagedBlob {
    const checksum = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (this.has(checksum)) return { checksum, tmp: undefined };
    const tmp = join(stagingDir, checksumHex(checksum));
    const fd = openSync(tmp, 'wx');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { checksum, tmp };
  }

  /** Moves a staged blob into objects/ (a rename: atomic). Called inside the write transaction. */
  commit(blob: StagedBlob): void {
    if (!blob.tmp) return;
    const target = this.path(blob.checksum);
    mkdirSync(join(target, '..'), { recursive: true });
    chmodSync(blob.tmp, 0o444);
    renameSync(blob.tmp, target);
  }

  /** Every stored checksum (walks objects/). */
  *list(): Generator<string> {
    for (const prefix of readdirSync(this.objectsDir)) {
      for (const name of readdirSync(join(this.objectsDir, prefix))) yield `sha256:${name}`;
    }
  }

  remove(checksum: string): void {
    rmSync(this.path(checksum), { force: true });
  }

  /**
   * Staging folders left by processes of this host that are no longer running (killed halfway
   * through a registration). Folders of live processes and of other hosts are left alone.
   */
  deadStagingDirs(): string[] {
    const dead: string[] = [];
    const host = hostname();
    for (const name of readdirSync(this.tmpDir)) {
      const match = /^(.*)-(\d+)-[0-9a-f]+$/.exec(name);
      if (!match || match[1] !== host) continue;
      const pid = Number(match[2]);
      if (pid !== process.pid && !isAlive(pid)) dead.push(join(this.tmpDir, name));
    }
    return dead;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
