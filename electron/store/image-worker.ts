/**
 * Worker thread for the image pool: probes files (hash + header) and makes thumbnails, so the main thread (and the
 * UI) never waits on sharp or on disk reads.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { describeFsError } from '../shared/errors.js';
import {
  ImageDecodeError,
  describeDecodeError,
  readImageFile,
  readImageInfo,
} from '../shared/image-decode.js';
import { renderImage } from '../shared/image-render.js';
import type { ImageRequest, ImageResult } from './image-messages.js';

// Parallelism comes from the pool's several workers; one libvips thread each avoids oversubscribing the CPU.
sharp.concurrency(1);
sharp.cache(false);

function fsReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT') return 'vanished during the scan (no such file)';
  return describeFsError(error);
}

async function probe(path: string): Promise<ImageResult> {
  let buffer: Buffer;
  let mtimeMs: number;
  try {
    ({ buffer, mtimeMs } = await readImageFile(path));
  } catch (error) {
    if (error instanceof ImageDecodeError) return { type: 'failed', error: error.message };
    return { type: 'failed', error: fsReason(error) };
  }
  const hash = createHash('sha256').update(buffer).digest('hex');
  try {
    const info = await readImageInfo(buffer);
    return { type: 'probed', size: buffer.length, mtimeMs, hash, info };
  } catch (error) {
    return { type: 'failed', error: describeDecodeError(error) };
  }
}

async function thumbnail(path: string, out: string, size: number): Promise<ImageResult> {
  let webp: Buffer;
  try {
    // No budget wait here: the pool waited for this task's cost before sending it.
    webp = await renderImage(
      path,
      (image) =>
        image
          .resize(size, size, { fit: 'inside', withoutEnlargement: true })
          .toColourspace('srgb')
          .webp({ quality: 80 })
          .toBuffer(),
      { budget: false },
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      type: 'failed',
      error: code && code.startsWith('E') ? fsReason(error) : describeDecodeError(error),
    };
  }
  // Written under a temporary name and renamed, so a reader never sees half a thumbnail.
  const temp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(temp, webp);
    await rename(temp, out);
    return { type: 'thumbnailed', bytes: webp.length };
  } catch (error) {
    // Best effort: under a cache path that is not a folder, rm fails too, and that must not turn a cache problem
    // into "damaged image data".
    await rm(temp, { force: true }).catch(() => {});
    return { type: 'failed', error: `cannot write thumbnail ${out}: ${describeFsError(error)}`, cache: true };
  }
}

async function handle(request: ImageRequest): Promise<ImageResult> {
  switch (request.type) {
    case 'probe':
      return probe(request.path);
    case 'thumbnail':
      return thumbnail(request.path, request.out, request.size);
  }
}

parentPort!.on('message', (request: ImageRequest) => {
  handle(request).then(
    (result) => parentPort!.postMessage({ ...result, id: request.id }),
    (error: unknown) =>
      parentPort!.postMessage({ type: 'failed', id: request.id, error: describeDecodeError(error) }),
  );
});
