/**
 * Finds the file behind a media URL (`sorta-img://media/…` in Electron, `/media/…` in web mode). Only files the
 * open project knows are served, looked up by id: a path never comes from the URL.
 * - image/<id>: an image registered in the project (thumb: the cached ≈256 px WebP; full: the original, or a
 *   2048 px WebP preview for formats browsers cannot show).
 * - prediction/<id>: a file a classify job of this project looked at (where a sort moved it, if it did).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { MediaRef, MediaVariant } from '../contract/index.js';
import { SortaError } from '../shared/errors.js';
import { estimateDecodeCost } from '../shared/image-render.js';
import { sharedImagePool } from '../store/image-pool.js';
import type { Project } from '../store/project.js';
import { getThumbnail, THUMBNAIL_SIZE } from '../store/thumbnails.js';
import { findImage, predictionFile } from '../store/ui-queries.js';
import { contentTypeOf } from '../server/static-files.js';
import type { AppContext } from './context.js';

export interface MediaFile {
  path: string;
  contentType?: string;
}

export type MediaResolver = (ref: MediaRef, variant: MediaVariant) => Promise<MediaFile>;

/** What <img> shows in every browser Sorta runs in; anything else gets a WebP preview. */
const BROWSER_FORMATS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif', '.bmp']);
const PREVIEW_SIZE = 2048;

async function webpOf(source: string, out: string, size: number): Promise<MediaFile> {
  if (!existsSync(out)) {
    const memory = await estimateDecodeCost(source); // the pool waits for room in the decode budget
    const result = await sharedImagePool().run({ type: 'thumbnail', path: source, out, size }, memory);
    if (result.type === 'failed') throw new SortaError('invalid-input', `${source}: ${result.error}`);
  }
  return { path: out, contentType: 'image/webp' };
}

async function imageMedia(project: Project, id: number, variant: MediaVariant): Promise<MediaFile> {
  if (variant === 'thumb') return { path: await getThumbnail(project, id), contentType: 'image/webp' };
  const image = findImage(project, id);
  if (!image) throw new SortaError('not-found', `There is no image with id ${id} in the open project.`);
  if (image.status !== 'ok' || !image.hash)
    throw new SortaError('not-found', `${image.path} cannot be shown: ${image.error ?? image.status}.`);
  if (BROWSER_FORMATS.has(extname(image.path).toLowerCase()))
    return { path: image.path, contentType: contentTypeOf(image.path) };
  return webpOf(
    image.path,
    join(project.cacheDir, 'previews', `${image.hash}-${PREVIEW_SIZE}.webp`),
    PREVIEW_SIZE,
  );
}

async function predictionMedia(project: Project, id: number, variant: MediaVariant): Promise<MediaFile> {
  const file = predictionFile(project, id);
  if (!file) throw new SortaError('not-found', `There is no classified file ${id} in the open project.`);
  const path = file.movedTo && existsSync(file.movedTo) ? file.movedTo : file.path;
  if (!existsSync(path)) throw new SortaError('not-found', `${path} is no longer there.`);
  // Row ids can be reused after a job is deleted: the cache name also carries the file it was made from.
  const key = `${id}-${createHash('sha1').update(file.path).digest('hex').slice(0, 16)}`;
  if (variant === 'thumb')
    return webpOf(path, join(project.cacheDir, 'classified-thumbs', `${key}.webp`), THUMBNAIL_SIZE);
  if (BROWSER_FORMATS.has(extname(path).toLowerCase())) return { path, contentType: contentTypeOf(path) };
  return webpOf(path, join(project.cacheDir, 'classified-previews', `${key}.webp`), PREVIEW_SIZE);
}

export function setupMedia(ctx: AppContext): MediaResolver {
  return async (ref, variant) => {
    const project = ctx.project();
    return ref.kind === 'image'
      ? imageMedia(project, ref.id, variant)
      : predictionMedia(project, ref.id, variant);
  };
}
