/**
 * Decoding an image all the way (pixels, not just the header) goes through renderImage: it waits for room in the
 * decode memory budget (shared/decode-budget.ts), estimated from the file's size and the header's dimensions read
 * first, and reports any failure as an ImageDecodeError that names the file's own format.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type sharp from 'sharp';
import { decodeBudget, decodeCost, DECODE_MEMORY_BUDGET } from './decode-budget.js';
import {
  ImageDecodeError,
  decodeImage,
  describeDecodeError,
  readImageFile,
  readImageInfo,
  sniffFormat,
} from './image-decode.js';

/** Enough of a file for the header of every format Sorta reads, EXIF and colour profiles included, in practice. */
const HEADER_BYTES = 512 * 1024;

/**
 * The memory that decoding this file will take, from its size and its header read from the first bytes (no pixels
 * decoded, the file not read whole). A header not found there counts as the whole budget, so that image runs alone.
 * Errors (not a file, no such file) are left for the decode itself to report.
 */
export async function estimateDecodeCost(path: string): Promise<number> {
  let prefix: Buffer;
  let size: number;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) return 0;
      size = stats.size;
      prefix = Buffer.alloc(Math.min(size, HEADER_BYTES));
      const { bytesRead } = await handle.read(prefix, 0, prefix.length, 0);
      prefix = prefix.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
  try {
    if (sniffFormat(prefix) === 'bmp' && prefix.length >= 26) {
      // readImageInfo checks a BMP's pixel data is all there, which a prefix's is not.
      return decodeCost(prefix.readInt32LE(18), Math.abs(prefix.readInt32LE(22)), size);
    }
    const { width, height } = await readImageInfo(prefix);
    return decodeCost(width, height, size);
  } catch {
    return Math.max(DECODE_MEMORY_BUDGET, size);
  }
}

export interface RenderOptions {
  /**
   * Wait for room in this thread's decode budget first (default true). The image pool's workers pass false: the
   * pool, in the main thread, already waited with the cost of the task it sent.
   */
  budget?: boolean;
}

/**
 * Decodes `input` (a path or the file's bytes) with shared/image-decode's decodeImage and hands the sharp instance
 * to `render` (its output call: `.raw().toBuffer()`, `.webp().toBuffer()`), inside the decode budget. Every failure
 * of reading, decoding or rendering comes back as an ImageDecodeError naming the file's format; fs errors (ENOENT,
 * EACCES…) propagate with their code.
 */
export async function renderImage<T>(
  input: Buffer | string,
  render: (image: sharp.Sharp) => Promise<T>,
  options: RenderOptions = {},
): Promise<T> {
  const run = async () => {
    const buffer = typeof input === 'string' ? (await readImageFile(input)).buffer : input;
    try {
      return await render(await decodeImage(buffer));
    } catch (error) {
      if (error instanceof ImageDecodeError) throw error;
      throw new ImageDecodeError(describeDecodeError(error, sniffFormat(buffer)), { cause: error });
    }
  };
  return (options.budget ?? true) ? withDecodeBudget(input, run) : run();
}

/**
 * Runs `work` (which decodes `input` and uses its pixels) once its estimated memory fits in this thread's decode
 * budget, holding that room until `work` is done: a caller that keeps the decoded pixels a while (to resize them)
 * wraps all of it, and renders with `{ budget: false }` inside.
 */
export async function withDecodeBudget<T>(input: Buffer | string, work: () => Promise<T>): Promise<T> {
  const cost =
    typeof input === 'string'
      ? await estimateDecodeCost(input)
      : await readImageInfo(input).then(
          ({ width, height }) => decodeCost(width, height, input.length),
          () => input.length,
        );
  const release = await decodeBudget().acquire(cost);
  try {
    return await work();
  } finally {
    release();
  }
}
