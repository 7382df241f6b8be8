/**
 * One way in for image files: every format sharp decodes plus BMP (sharp has no BMP decoder; bmp-js does it), with
 * decompression bombs refused before any pixel is decoded. Used by the store (import, thumbnails) and by vision
 * preprocessing.
 */
import bmp from 'bmp-js';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { SortaError } from './errors.js';

/** Images over this many pixels are refused before decoding (decompression-bomb guard). */
export const MAX_INPUT_PIXELS = 100_000_000;

/** Lower-case extensions (with the dot) that import treats as images; anything else is skipped silently. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.jpe',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.heic',
  '.heif',
  '.bmp',
  '.dib',
]);

export interface ImageInfo {
  /** Width and height as displayed, after EXIF orientation. */
  width: number;
  height: number;
  /** sharp's format name ('jpeg', 'png', 'webp', 'gif', 'tiff', 'heif') or 'bmp'. */
  format: string;
  /** Frames in an animated image (1 otherwise); width/height are those of one frame. */
  pages: number;
}

/** Raised for a file that is not a usable image; `message` is the short reason shown to the user. */
export class ImageDecodeError extends SortaError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('invalid-input', reason, options);
    this.name = 'ImageDecodeError';
  }
}

function isBmp(buffer: Buffer): boolean {
  return buffer.length >= 2 && buffer[0] === 0x42 && buffer[1] === 0x4d;
}

function refuseIfTooLarge(width: number, height: number): void {
  if (width * height > MAX_INPUT_PIXELS)
    throw new ImageDecodeError(
      `image is ${width}×${height} pixels (${Math.round((width * height) / 1e6)} megapixels), over the ` +
        `${MAX_INPUT_PIXELS / 1e6}-megapixel limit`,
    );
}

/** Header fields of a BMP, validated (no pixels decoded). */
function readBmpHeader(buffer: Buffer) {
  if (buffer.length < 54) throw new ImageDecodeError('truncated BMP file (header incomplete)');
  const offset = buffer.readUInt32LE(10);
  const headerSize = buffer.readUInt32LE(14);
  const width = buffer.readInt32LE(18);
  const rawHeight = buffer.readInt32LE(22);
  const bitsPerPixel = buffer.readUInt16LE(28);
  const compression = buffer.readUInt32LE(30);
  const height = Math.abs(rawHeight);
  if (headerSize < 40)
    throw new ImageDecodeError(`unsupported BMP variant (OS/2 header of ${headerSize} bytes)`);
  if (width <= 0 || height === 0)
    throw new ImageDecodeError(`damaged BMP header (size ${width}×${rawHeight})`);
  refuseIfTooLarge(width, height);
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel))
    throw new ImageDecodeError(`damaged BMP header (${bitsPerPixel} bits per pixel)`);
  if (compression === 1 || compression === 2)
    throw new ImageDecodeError('unsupported BMP variant (RLE-compressed)');
  if (compression !== 0 && compression !== 3)
    throw new ImageDecodeError(`unsupported BMP variant (compression type ${compression})`);
  const rowBytes = Math.floor((bitsPerPixel * width + 31) / 32) * 4;
  if (offset + rowBytes * height > buffer.length) throw new ImageDecodeError('truncated BMP file');
  return { offset, headerSize, width, height, bitsPerPixel, compression };
}

/**
 * bmp-js reads pixels right after a 40-byte header and ignores the pixel-data offset, so files with the V4/V5
 * headers most tools write today come out shifted. This rewrites such a file as the classic layout bmp-js
 * understands: a 40-byte header, then masks (16-bit bit-fields) or palette, then the pixels. A 32-bit bit-field
 * file in the usual BGRA layout becomes plain 32-bit (bmp-js reads that as B, G, R, A); other masks are refused.
 */
function normaliseBmp(buffer: Buffer, header: ReturnType<typeof readBmpHeader>): Buffer {
  const { offset, headerSize, bitsPerPixel, compression } = header;
  let compressionOut = compression;
  let masks = Buffer.alloc(0);
  if (compression === 3) {
    const maskStart = 14 + 40; // BITMAPINFOHEADER + masks, or masks inside a V4/V5 header: same place
    if (buffer.length < maskStart + 12) throw new ImageDecodeError('truncated BMP file (masks incomplete)');
    const red = buffer.readUInt32LE(maskStart);
    const green = buffer.readUInt32LE(maskStart + 4);
    const blue = buffer.readUInt32LE(maskStart + 8);
    if (bitsPerPixel === 32) {
      if (red !== 0x00ff0000 || green !== 0x0000ff00 || blue !== 0x000000ff)
        throw new ImageDecodeError('unsupported BMP variant (unusual 32-bit channel masks)');
      compressionOut = 0;
    } else if (bitsPerPixel === 16) {
      masks = Buffer.alloc(16);
      masks.writeUInt32LE(red, 0);
      masks.writeUInt32LE(green, 4);
      masks.writeUInt32LE(blue, 8);
    } else {
      throw new ImageDecodeError(`damaged BMP header (bit-field masks with ${bitsPerPixel} bits per pixel)`);
    }
  }
  if (headerSize === 40 && compressionOut === compression && masks.length === 0) return buffer;
  const paletteStart = 14 + headerSize + (headerSize === 40 && compression === 3 ? 12 : 0);
  const palette = bitsPerPixel <= 8 ? buffer.subarray(paletteStart, offset) : Buffer.alloc(0);
  const head = Buffer.from(buffer.subarray(0, 54));
  head.writeUInt32LE(40, 14);
  head.writeUInt32LE(compressionOut, 30);
  const pixels = buffer.subarray(offset);
  const out = Buffer.concat([head, masks, palette, pixels]);
  out.writeUInt32LE(54 + masks.length + palette.length, 10);
  return out;
}

/** Decodes a BMP into raw RGB or RGBA pixels (bmp-js yields A, B, G, R per pixel). */
function decodeBmp(buffer: Buffer): { data: Buffer; width: number; height: number; channels: 3 | 4 } {
  const header = readBmpHeader(buffer);
  let decoded: { data: Buffer; width: number; height: number };
  try {
    decoded = bmp.decode(normaliseBmp(buffer, header));
  } catch (error) {
    if (error instanceof ImageDecodeError) throw error;
    throw new ImageDecodeError(`damaged BMP file (${(error as Error).message})`, { cause: error });
  }
  const { width, height, data } = decoded;
  const pixels = width * height;
  // 32-bit BMPs often leave the fourth byte at 0 meaning "unused": only keep alpha when some pixel sets it.
  let hasAlpha = false;
  if (header.bitsPerPixel === 32) for (let i = 0; i < pixels && !hasAlpha; i++) hasAlpha = data[i * 4] !== 0;
  const channels = hasAlpha ? 4 : 3;
  const out = Buffer.allocUnsafe(pixels * channels);
  for (let i = 0, o = 0; i < pixels; i++, o += channels) {
    const p = i * 4;
    out[o] = data[p + 3];
    out[o + 1] = data[p + 2];
    out[o + 2] = data[p + 1];
    if (hasAlpha) out[o + 3] = data[p];
  }
  return { data: out, width, height, channels };
}

/**
 * The format from the file's first bytes. Used to name the format in decode errors: libvips keeps one error buffer
 * for the whole process, so its message cannot say which image failed when several decode at once.
 */
export function sniffFormat(buffer: Buffer): string | undefined {
  const ascii = (start: number, end: number) => buffer.subarray(start, end).toString('latin1');
  if (buffer.length >= 3 && buffer[0] === 0xff && buffer[1] === 0xd8 && buffer[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  if (ascii(4, 8) === 'ftyp') return /^avi[fs]/.test(ascii(8, 12)) ? 'avif' : 'heif';
  if (isBmp(buffer)) return 'bmp';
  if (/^\s*<(svg|\?xml)/i.test(ascii(0, 256))) return 'svg';
  return undefined;
}

const FORMAT_NAMES: Record<string, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  gif: 'GIF',
  webp: 'WebP',
  tiff: 'TIFF',
  avif: 'AVIF',
  heif: 'HEIF',
  bmp: 'BMP',
  svg: 'SVG',
};

/** How libvips names each format's loader in its messages ("VipsJpeg: …", "pngload_buffer: …", "webp: …"). */
const LOADER_WORDS: Record<string, RegExp> = {
  jpeg: /jpe?g/i,
  png: /png/i,
  gif: /gif/i,
  webp: /webp/i,
  tiff: /tiff/i,
  avif: /heif|avif/i,
  heif: /heif/i,
  svg: /svg/i,
};

const TRUNCATED = /premature end|truncated|unexpected end|not enough data|read error|end of (file|stream)/i;

/**
 * Turns sharp's messages into short reasons a user understands. With the file's `format` (sniffFormat), the
 * reason names it and keeps only the lines of libvips' message that speak of that format's loader: the others
 * belong to images that failed at the same time in other threads (libvips' error buffer is process-wide).
 */
export function describeDecodeError(error: unknown, format?: string): string {
  if (error instanceof SortaError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message))
    return format && LOADER_WORDS[format]
      ? `truncated or damaged ${FORMAT_NAMES[format]} image data (no readable header)`
      : 'not an image (unrecognised file content)';
  if (/pixel limit/i.test(message)) return `image is over the ${MAX_INPUT_PIXELS / 1e6}-megapixel limit`;
  if (format === undefined || !LOADER_WORDS[format]) {
    const first = message.split('\n')[0];
    const kind = TRUNCATED.test(message) ? 'truncated or damaged' : 'damaged or unsupported';
    return `${kind} ${format ? `${FORMAT_NAMES[format] ?? format} ` : ''}image data (${first})`;
  }
  const own = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => LOADER_WORDS[format].test(line));
  const name = FORMAT_NAMES[format];
  if (own.length === 0) return `truncated or damaged ${name} image data`;
  const kind = own.some((line) => TRUNCATED.test(line)) ? 'truncated or damaged' : 'damaged or unsupported';
  return `${kind} ${name} image data (${own[0]})`;
}

/** Files larger than this are refused before reading (Node cannot hold more in one buffer anyway). */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * Reads an image file safely: opened non-blocking so a named pipe that replaced the file cannot hang the reader,
 * refused when it is not a regular file or too large. Returns the bytes with the mtime seen by the same handle.
 * fs errors (ENOENT, EACCES…) propagate with their code.
 */
export async function readImageFile(path: string): Promise<{ buffer: Buffer; mtimeMs: number }> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ImageDecodeError('not a regular file');
    if (stats.size > MAX_FILE_BYTES)
      throw new ImageDecodeError(
        `file too large to be a usable image (${(stats.size / 2 ** 30).toFixed(1)} GiB)`,
      );
    return { buffer: await handle.readFile(), mtimeMs: Math.trunc(stats.mtimeMs) };
  } finally {
    await handle.close();
  }
}

async function toBuffer(input: Buffer | string): Promise<Buffer> {
  return typeof input === 'string' ? (await readImageFile(input)).buffer : input;
}

/** Printable ASCII, tabs and line breaks only: a text file, not an image. */
function isPlainText(bytes: Buffer): boolean {
  for (const byte of bytes)
    if (!(byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127))) return false;
  return true;
}

function refuseNonImage(buffer: Buffer): void {
  if (buffer.length === 0) throw new ImageDecodeError('empty file (0 bytes)');
  const start = buffer.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html'))
    throw new ImageDecodeError('not an image (the file contains HTML)');
  if (isPlainText(buffer.subarray(0, 512)) && !start.startsWith('<svg') && !start.startsWith('<?xml'))
    throw new ImageDecodeError('not an image (the file contains text)');
}

/**
 * Header-only look at an image: dimensions after EXIF orientation, format and frame count. Refuses empty files,
 * text, unknown content and images over MAX_INPUT_PIXELS without decoding pixels. Throws ImageDecodeError.
 */
export async function readImageInfo(input: Buffer | string): Promise<ImageInfo> {
  const buffer = await toBuffer(input);
  refuseNonImage(buffer);
  if (isBmp(buffer)) {
    const { width, height } = readBmpHeader(buffer);
    return { width, height, format: 'bmp', pages: 1 };
  }
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(buffer, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new ImageDecodeError(describeDecodeError(error, sniffFormat(buffer)), { cause: error });
  }
  const frameHeight = metadata.pageHeight ?? metadata.height;
  if (!metadata.width || !frameHeight) throw new ImageDecodeError('damaged image header (no dimensions)');
  refuseIfTooLarge(metadata.width, frameHeight);
  const swapped = (metadata.orientation ?? 1) >= 5;
  return {
    width: swapped ? frameHeight : metadata.width,
    height: swapped ? metadata.width : frameHeight,
    format: metadata.format ?? 'unknown',
    pages: metadata.pages ?? 1,
  };
}

/**
 * A sharp instance for any supported file (path or bytes), BMP included, already EXIF-oriented, reading the first
 * frame of an animation, with the 100-megapixel limit applied before decoding. Errors while sharp decodes later
 * (truncated data) surface from its output call; pass them through describeDecodeError.
 */
export async function decodeImage(input: Buffer | string): Promise<sharp.Sharp> {
  const buffer = await toBuffer(input);
  refuseNonImage(buffer);
  if (isBmp(buffer)) {
    const { data, width, height, channels } = decodeBmp(buffer);
    return sharp(data, { raw: { width, height, channels }, limitInputPixels: MAX_INPUT_PIXELS });
  }
  return sharp(buffer, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'truncated', autoOrient: true });
}
