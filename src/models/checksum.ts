/** sha256 helpers: file checksums (in chunks, so a 10 MB model never sits in memory) and canonical JSON. */
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { hashPass } from './hash-pass.js';

/** Checksums are written `sha256:<64 hex>` so that another algorithm can be told apart later. */
export const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function sha256Bytes(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Reads a file through sha256 (hash-pass.ts); returns the checksum and the byte count. */
export async function sha256File(file: string): Promise<{ checksum: string; size: number }> {
  const fd = openSync(file, 'r');
  try {
    return await hashPass(fd);
  } finally {
    closeSync(fd);
  }
}

/** The hex part of a `sha256:<hex>` checksum (the artifact store names files by it). */
export function checksumHex(checksum: string): string {
  return checksum.slice('sha256:'.length);
}

/**
 * JSON with object keys sorted at every level, so that equal values hash equally whatever order
 * their keys were written in (plan_hash depends on it).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** The hash a manifest records for its frozen feature plan; the same definition as src/dsl planHash (FrozenPlan.hash). */
export function planHash(plan: unknown): string {
  return sha256Bytes(canonicalJson(plan));
}
