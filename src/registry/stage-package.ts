/**
 * Verifying a package while staging it: the registration path of loadPackage. loadPackage reads
 * every file to hash it; registration must also copy every file, so doing both separately reads
 * the package twice and hashes it twice. Here each file is read, hashed and written into the
 * staging folder exactly once, its checksum compared with the manifest from that pass, and the
 * content checks (plan, ONNX signature or custom exports) run on the staged copies: the bytes
 * that will be stored are the bytes that were checked, even if the source changes meanwhile.
 * Every rejection is loadPackage's, with the same code and message.
 */
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { openRegularFile } from '../models/hash-pass.js';
import { MANIFEST_FILE } from '../models/manifest.js';
import { byPath, checkPackageContents, checksumMismatch, type ModelPackage, type PackageFile, readPackageListing } from '../models/package.js';
import type { BlobStore, PendingBlob, StagedBlob } from './blob-store.js';

export interface StagedPackage {
  /** The checked package (`dir` is the source folder). */
  pkg: ModelPackage;
  /** One blob per file, fresco.json included, to commit inside the registering transaction. */
  blobs: StagedBlob[];
}

export async function stagePackage(store: BlobStore, dir: string, staging: string): Promise<StagedPackage> {
  const { manifest, manifestBytes, listed } = readPackageListing(dir);
  // Every copy's fsync runs in the thread pool while the next file is copied; all are awaited
  // before this returns, so the caller only ever commits durable blobs.
  const manifestBlob = store.stageBytesPending(manifestBytes, staging);
  const blobs: PendingBlob[] = [manifestBlob];
  const files: PackageFile[] = [{ path: MANIFEST_FILE, checksum: manifestBlob.checksum, size: manifestBytes.length }];
  const copies = new Map<string, string>();
  for (const [path, expected] of listed) {
    const input = openRegularFile(join(dir, path), path);
    let blob;
    try {
      blob = await store.stage(input, expected, staging);
    } finally {
      closeSync(input);
    }
    blobs.push(blob);
    if (blob.checksum !== expected) throw checksumMismatch(path, blob.checksum, expected);
    files.push({ path, checksum: expected, size: blob.size });
    // Stored content was hashed from the source but not copied: check the stored object instead.
    copies.set(path, blob.tmp ?? store.path(expected));
  }
  files.sort(byPath);
  const plan = await checkPackageContents(manifest, (path) => copies.get(path) as string);
  await Promise.all(blobs.map((b) => b.durable));
  return { pkg: { dir, manifest, plan, checksum: manifestBlob.checksum, files }, blobs };
}
