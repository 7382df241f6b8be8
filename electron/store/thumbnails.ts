/**
 * Thumbnails: about 256 px WebP, EXIF-oriented, cached by content hash under `<project>.sorta-cache/thumbs/`, made
 * by the image pool's worker threads — in bulk in the background, or one at a time on demand. Making a thumbnail
 * decodes the whole image, so this is also where damaged (truncated) files are found: they become error rows.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCost } from '../shared/decode-budget.js';
import { CancelledError, SortaError } from '../shared/errors.js';
import { sharedImagePool, type ImagePool } from './image-pool.js';
import type { Project } from './project.js';

export const THUMBNAIL_SIZE = 256;

export function thumbnailPath(project: Project, hash: string): string {
  return join(project.cacheDir, 'thumbs', hash.slice(0, 2), `${hash}-${THUMBNAIL_SIZE}.webp`);
}

export interface ThumbnailProgress {
  phase: 'thumbnails';
  total: number;
  processed: number;
  failed: number;
  /** Thumbnails per second so far. */
  rate: number;
  /** Estimated milliseconds left. */
  etaMs: number;
}

export interface ThumbnailFailure {
  imageId: number;
  path: string;
  error: string;
}

export interface GenerateThumbnailsOptions {
  /** Only these images (default: every ok image whose thumbnail is missing). */
  imageIds?: number[];
  pool?: ImagePool;
  signal?: AbortSignal;
  onProgress?: (progress: ThumbnailProgress) => void;
}

interface ThumbTarget {
  id: number;
  path: string;
  hash: string;
  width: number | null;
  height: number | null;
  size: number | null;
}

/** Memory a thumbnail of this image takes to make (the full decode), for the pool's decode budget. */
function thumbnailCost(target: ThumbTarget): number {
  return decodeCost(target.width ?? 0, target.height ?? 0, target.size ?? 0);
}

/**
 * Makes every missing thumbnail. Images that fail to decode are marked status 'error' with the reason and
 * returned as failures. A cache that cannot be written is an error for the whole call.
 */
export async function generateThumbnails(
  project: Project,
  options: GenerateThumbnailsOptions = {},
): Promise<{ made: number; cached: number; failures: ThumbnailFailure[] }> {
  const pool = options.pool ?? sharedImagePool();
  const candidates: ThumbTarget[] = options.imageIds
    ? options.imageIds
        .map(
          (id) =>
            project
              .statement(
                `SELECT id, path, hash, width, height, size FROM images
                  WHERE id = ? AND status = 'ok' AND hash IS NOT NULL`,
              )
              .get(id) as ThumbTarget | undefined,
        )
        .filter((row): row is ThumbTarget => row !== undefined)
    : (project
        .statement(
          `SELECT id, path, hash, width, height, size FROM images
            WHERE status = 'ok' AND hash IS NOT NULL ORDER BY path, id`,
        )
        .all() as ThumbTarget[]);
  // One decode per distinct content: copies of a file share a thumbnail.
  const byHash = new Map<string, ThumbTarget[]>();
  let cached = 0;
  for (const target of candidates) {
    if (existsSync(thumbnailPath(project, target.hash))) {
      cached++;
      continue;
    }
    const group = byHash.get(target.hash);
    if (group) group.push(target);
    else byHash.set(target.hash, [target]);
  }
  const groups = [...byHash.values()];
  const total = groups.length;
  const failures: ThumbnailFailure[] = [];
  let processed = 0;
  let made = 0;
  let cacheError: string | undefined;
  const started = performance.now();
  const report = () => {
    const elapsed = performance.now() - started;
    const rate = elapsed > 0 ? (processed * 1000) / elapsed : 0;
    options.onProgress?.({
      phase: 'thumbnails',
      total,
      processed,
      failed: failures.length,
      rate,
      etaMs: rate > 0 ? ((total - processed) / rate) * 1000 : 0,
    });
  };
  const markError = project.statement(
    "UPDATE images SET status = 'error', error = ?, checked_at = ? WHERE id = ?",
  );
  let next = 0;
  const lane = async () => {
    while (next < groups.length && !cacheError && !options.signal?.aborted) {
      const group = groups[next++];
      const first = group[0];
      const result = await pool.run(
        {
          type: 'thumbnail',
          path: first.path,
          out: thumbnailPath(project, first.hash),
          size: THUMBNAIL_SIZE,
        },
        thumbnailCost(first),
      );
      if (result.type === 'failed') {
        if (result.cache) cacheError = result.error;
        else
          for (const target of group) {
            markError.run(result.error, Date.now(), target.id);
            failures.push({ imageId: target.id, path: target.path, error: result.error });
          }
      } else made++;
      processed++;
      if (processed % 50 === 0 || processed === total) report();
    }
  };
  report();
  await Promise.all(Array.from({ length: Math.max(1, pool.size * 2) }, lane));
  if (cacheError) throw new SortaError('io', cacheError);
  if (options.signal?.aborted) throw new CancelledError('thumbnail generation cancelled');
  return { made, cached, failures };
}

/**
 * The cached thumbnail of an image, made now when missing (on demand, for the grid). Throws when the image is
 * unknown or cannot be decoded (it is then marked as an error).
 */
export async function getThumbnail(project: Project, imageId: number, pool?: ImagePool): Promise<string> {
  const row = project
    .statement('SELECT id, path, hash, width, height, size, status, error FROM images WHERE id = ?')
    .get(imageId) as (ThumbTarget & { status: string; error: string | null }) | undefined;
  if (!row) throw new SortaError('not-found', `There is no image with id ${imageId}.`);
  if (row.status !== 'ok' || !row.hash)
    throw new SortaError('invalid-input', `${row.path} has no thumbnail: ${row.error ?? row.status}.`);
  const out = thumbnailPath(project, row.hash);
  if (existsSync(out)) return out;
  const result = await (pool ?? sharedImagePool()).run(
    { type: 'thumbnail', path: row.path, out, size: THUMBNAIL_SIZE },
    thumbnailCost(row),
  );
  if (result.type === 'failed') {
    if (!result.cache)
      project
        .statement("UPDATE images SET status = 'error', error = ?, checked_at = ? WHERE id = ?")
        .run(result.error, Date.now(), imageId);
    throw new SortaError(result.cache ? 'io' : 'invalid-input', `${row.path}: ${result.error}`);
  }
  return out;
}
