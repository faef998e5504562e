/**
 * The content-addressed artifact store: every file lives once under objects/<2 hex>/<64 hex>,
 * named by its sha256. Files are first copied into a private staging folder (hashing while
 * copying, then fsync), and only renamed into objects/ inside the registering transaction, so a
 * process killed at any point leaves either nothing in objects/ or whole, correctly named files.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checksumHex } from '../models/checksum.js';
import { hashPass } from '../models/hash-pass.js';
import { removeLeftoverScratchDirs, scratchDir } from '../util/leftovers.js';

const fsyncAsync = promisify(fsync);

export interface StagedBlob {
  checksum: string;
  /** The staged copy, or undefined when the store already holds this content. */
  tmp: string | undefined;
}

/** A staged blob whose fsync may still be running: await `durable` before committing it. */
export interface PendingBlob extends StagedBlob {
  size: number;
  durable: Promise<void>;
}

/**
 * fsyncs and closes `fd` in the thread pool. The returned promise is marked handled, so that a
 * registration that fails before awaiting it does not crash the process on an fsync error.
 */
function syncAndClose(fd: number): Promise<void> {
  const done = fsyncAsync(fd).finally(() => closeSync(fd));
  done.catch(() => {});
  return done;
}

export class BlobStore {
  readonly objectsDir: string;
  readonly tmpDir: string;

  /** `create: false` (a reader) makes no folders: reading never creates state. */
  constructor(
    readonly root: string,
    create = true,
  ) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
    if (!create) return;
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

  /** A fresh staging folder owned by this process (named `<host>-<pid>-<random>` for the sweeper). */
  newStagingDir(): string {
    return scratchDir(this.tmpDir, '');
  }

  /**
   * Copies the file open as `input` into `stagingDir` in one pass (hash-pass.ts: each byte read,
   * hashed and written once). The copy is named after `expected`, the checksum the caller was
   * promised; the returned checksum is that of the bytes actually copied, and the caller must
   * refuse the blob when they differ. Content the store already holds is only hashed, not
   * copied (`tmp` is then undefined). Resolves once the copy is written; its fsync runs on in
   * the thread pool, overlapping whatever the caller does next, until `durable` resolves.
   */
  async stage(input: number, expected: string, stagingDir: string): Promise<PendingBlob> {
    if (this.has(expected)) {
      const { checksum, size } = await hashPass(input);
      return { checksum, size, tmp: undefined, durable: Promise.resolve() };
    }
    const tmp = join(stagingDir, checksumHex(expected));
    const output = openSync(tmp, 'wx');
    let result;
    try {
      result = await hashPass(input, output);
    } catch (error) {
      closeSync(output);
      throw error;
    }
    return { ...result, tmp, durable: syncAndClose(output) };
  }

  /** stageBytes, with the fsync left running in the thread pool until `durable` resolves. */
  stageBytesPending(bytes: Uint8Array, stagingDir: string): PendingBlob {
    const checksum = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (this.has(checksum)) return { checksum, size: bytes.length, tmp: undefined, durable: Promise.resolve() };
    const tmp = join(stagingDir, checksumHex(checksum));
    const fd = openSync(tmp, 'wx');
    try {
      writeSync(fd, bytes);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    return { checksum, size: bytes.length, tmp, durable: syncAndClose(fd) };
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
   * Removes the staging folders left by processes of this host that are no longer running (killed
   * halfway through a registration); returns how many. Folders of live processes and of other
   * hosts are left alone.
   */
  removeDeadStagingDirs(): number {
    return removeLeftoverScratchDirs(this.tmpDir, '').length;
  }
}
