/**
 * The persistent feature cache beside the project: `<project>.sorta-cache/features/<key>/<image sha256>.f16`, one
 * float16 vector per image. The key folder names everything the vector depends on — architecture, weights checksum,
 * input size, layer, flipped or not, and a format version bumped whenever preprocessing or the graph changes — so
 * other weights or another input size never read stale features. Files are written to a temporary name and renamed,
 * so a crash leaves either the whole vector or none; a file of the wrong size is treated as missing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, SortaError } from '../shared/errors.js';
import { decodeHalf, encodeHalf } from './float16.js';

export type FeatureLayer = 'fc7' | 'pooled';

export interface FeatureKey {
  arch: string;
  weightsChecksum: string;
  inputSize: number;
  layer: FeatureLayer;
  flipped: boolean;
}

/** Bump when preprocessing or the feature graph changes in a way that changes the numbers. */
export const FEATURE_FORMAT_VERSION = 1;

export function featureKeyFolder(key: FeatureKey): string {
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        FEATURE_FORMAT_VERSION,
        key.arch,
        key.weightsChecksum,
        key.inputSize,
        key.layer,
        key.flipped,
      ]),
    )
    .digest('hex')
    .slice(0, 16);
  return `${key.arch}-${key.inputSize}-${key.layer}${key.flipped ? '-flip' : ''}-${digest}`;
}

export class FeatureCache {
  readonly dir: string;
  private prepared = false;

  constructor(
    cacheDir: string,
    readonly key: FeatureKey,
    readonly dim: number,
  ) {
    this.dir = join(cacheDir, 'features', featureKeyFolder(key));
  }

  private file(contentHash: string): string {
    if (!/^[0-9a-f]{16,128}$/.test(contentHash))
      throw new SortaError('internal', `not a content hash: '${contentHash}'`);
    return join(this.dir, `${contentHash}.f16`);
  }

  /** The cached vector, or null when absent (or unreadable, or of the wrong size: then recomputed). */
  get(contentHash: string): Float32Array | null {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.file(contentHash));
    } catch {
      return null;
    }
    if (bytes.length !== this.dim * 2) return null;
    const bits = new Uint16Array(this.dim);
    new Uint8Array(bits.buffer).set(bytes);
    return decodeHalf(bits);
  }

  /** Stores `values` and returns them as stored (rounded to float16), i.e. what `get` will return. */
  put(contentHash: string, values: Float32Array): Float32Array {
    if (values.length !== this.dim)
      throw new SortaError('internal', `feature of ${values.length} values, expected ${this.dim}`);
    const target = this.file(contentHash);
    const temp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      if (!this.prepared) {
        mkdirSync(this.dir, { recursive: true });
        writeFileSync(join(this.dir, 'key.json'), JSON.stringify({ ...this.key, dim: this.dim }, null, 2));
        this.prepared = true;
      }
      const bits = encodeHalf(values);
      writeFileSync(temp, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
      renameSync(temp, target);
      return decodeHalf(bits);
    } catch (error) {
      rmSync(temp, { force: true });
      throw new SortaError('io', `cannot write the feature cache in ${this.dir}: ${describeFsError(error)}`, {
        cause: error,
      });
    }
  }
}
