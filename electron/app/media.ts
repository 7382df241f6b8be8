/**
 * Finds the file behind a media URL (`sorta-img://media/…` in Electron, `/media/…` in web mode). Only images
 * registered in the open project are served, looked up by id: a path never comes from the URL.
 */
import type { MediaRef, MediaVariant } from '../contract/index.js';
import { SortaError } from '../shared/errors.js';
import { getThumbnail } from '../store/thumbnails.js';
import type { AppContext } from './context.js';

export interface MediaFile {
  path: string;
  contentType?: string;
}

export type MediaResolver = (ref: MediaRef, variant: MediaVariant) => Promise<MediaFile>;

export function setupMedia(ctx: AppContext): MediaResolver {
  return async (ref, variant) => {
    const project = ctx.project();
    if (ref.kind === 'image' && variant === 'thumb')
      return { path: await getThumbnail(project, ref.id), contentType: 'image/webp' };
    throw new SortaError('not-found', `No ${variant} ${ref.kind} ${ref.id} in the open project.`);
  };
}
