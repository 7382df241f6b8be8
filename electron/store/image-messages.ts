/** Messages between the image pool (main thread) and its workers: tagged unions, one reply per request id. */
import type { ImageInfo } from '../shared/image-decode.js';

export type ImageTask =
  /** Read the file once: size, mtime, SHA-256 of the content, and header information (no pixel decoding). */
  | { type: 'probe'; path: string }
  /** Decode fully (so damaged data is found) and write a WebP thumbnail to `out` (atomically). */
  | { type: 'thumbnail'; path: string; out: string; size: number };

export type ImageRequest = ImageTask & { id: number };

export interface ProbeResult {
  type: 'probed';
  size: number;
  mtimeMs: number;
  hash: string;
  info: ImageInfo;
}

export interface ThumbnailResult {
  type: 'thumbnailed';
  bytes: number;
}

export interface FailedResult {
  type: 'failed';
  /** Short reason for the user ("permission denied", "truncated or damaged image data (…)"). */
  error: string;
  /** The image is fine but the cache could not be written (a thumbnail task only). */
  cache?: boolean;
}

export type ImageResult = ProbeResult | ThumbnailResult | FailedResult;
export type ImageReply = ImageResult & { id: number };
