/**
 * Builds a folder of real image files, good and awkward, for import tests. Everything is generated (sharp, bmp-js,
 * hand-written headers); nothing is committed.
 */
import bmp from 'bmp-js';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Deterministic noisy RGB pixels (noise so JPEGs are big enough to truncate meaningfully). */
export function noise(width: number, height: number, channels: number, seed = 1): Buffer {
  const data = Buffer.alloc(width * height * channels);
  let x = seed * 2654435761;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = (x >>> 16) & 0xff;
  }
  return data;
}

export function rawImage(width: number, height: number, channels: 1 | 2 | 3 | 4 = 3, seed = 1): sharp.Sharp {
  return sharp(noise(width, height, channels, seed), { raw: { width, height, channels } });
}

export async function jpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  return rawImage(width, height, 3, seed).jpeg({ quality: 85 }).toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A tiny PNG whose header claims width × height (a decompression bomb's calling card). */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** 24-bit BMP written by bmp-js (classic 40-byte header). Pixels are given as RGB. */
export function bmp24(width: number, height: number, rgb: Buffer): Buffer {
  const abgr = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    abgr[i * 4 + 1] = rgb[i * 3 + 2];
    abgr[i * 4 + 2] = rgb[i * 3 + 1];
    abgr[i * 4 + 3] = rgb[i * 3];
  }
  return bmp.encode({ data: abgr, width, height }).data;
}

/** 32-bit top-down BMP with a BITMAPV5HEADER and BGRA bit-field masks, as modern tools write. Pixels as RGBA. */
export function bmpV5(width: number, height: number, rgba: Buffer): Buffer {
  const headerSize = 124;
  const offset = 14 + headerSize;
  const buffer = Buffer.alloc(offset + width * height * 4);
  buffer.write('BM', 0, 'latin1');
  buffer.writeUInt32LE(buffer.length, 2);
  buffer.writeUInt32LE(offset, 10);
  buffer.writeUInt32LE(headerSize, 14);
  buffer.writeInt32LE(width, 18);
  buffer.writeInt32LE(-height, 22);
  buffer.writeUInt16LE(1, 26);
  buffer.writeUInt16LE(32, 28);
  buffer.writeUInt32LE(3, 30);
  buffer.writeUInt32LE(0x00ff0000, 54);
  buffer.writeUInt32LE(0x0000ff00, 58);
  buffer.writeUInt32LE(0x000000ff, 62);
  buffer.writeUInt32LE(0xff000000, 66);
  for (let i = 0; i < width * height; i++) {
    const p = offset + i * 4;
    buffer[p] = rgba[i * 4 + 2];
    buffer[p + 1] = rgba[i * 4 + 1];
    buffer[p + 2] = rgba[i * 4];
    buffer[p + 3] = rgba[i * 4 + 3];
  }
  return buffer;
}

async function animated(
  format: 'gif' | 'webp',
  width: number,
  height: number,
  frames: number,
): Promise<Buffer> {
  const inputs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 3, background: { r: 60 * i, g: 100, b: 200 - 50 * i } } })
        .png()
        .toBuffer(),
    ),
  );
  const joined = sharp(inputs, { join: { animated: true } });
  return format === 'gif' ? joined.gif({ loop: 0 }).toBuffer() : joined.webp({ loop: 0 }).toBuffer();
}

export interface AwkwardFolder {
  /** Files expected to import fine, relative path → expected [width, height] after EXIF orientation. */
  good: Record<string, [number, number]>;
  /** Files expected as error rows, relative path → pattern the reason must match. */
  bad: Record<string, RegExp>;
  /** Relative paths that must be ignored silently. */
  ignored: string[];
}

/**
 * Writes the awkward folder into `root`:
 * cats/, dogs/ (classes), files at the top (unlabelled), every odd case of the import issue.
 */
export async function writeAwkwardFolder(root: string): Promise<AwkwardFolder> {
  const good: AwkwardFolder['good'] = {};
  const bad: AwkwardFolder['bad'] = {};
  const ignored: string[] = [];
  const put = (rel: string, data: Buffer | string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
  };

  // Plain images in class folders, deeper files belong to the first-level folder.
  put('cats/a.jpg', await jpeg(64, 48, 1));
  good['cats/a.jpg'] = [64, 48];
  put('cats/b.png', await rawImage(50, 40, 3, 2).png().toBuffer());
  good['cats/b.png'] = [50, 40];
  put('cats/deep/er/c.webp', await rawImage(30, 20, 3, 3).webp().toBuffer());
  good['cats/deep/er/c.webp'] = [30, 20];
  put('dogs/d.tif', await rawImage(33, 22, 3, 4).tiff().toBuffer());
  good['dogs/d.tif'] = [33, 22];
  put('dogs/e.avif', await rawImage(32, 24, 3, 5).avif({ effort: 0 }).toBuffer());
  good['dogs/e.avif'] = [32, 24];

  // Names with spaces, quotes and non-Latin characters; upper-case extensions.
  put('dogs/with space.jpg', await jpeg(20, 10, 6));
  good['dogs/with space.jpg'] = [20, 10];
  put(`dogs/quote's "double".jpg`, await jpeg(21, 10, 7));
  good[`dogs/quote's "double".jpg`] = [21, 10];
  put('dogs/日本語の犬.png', await rawImage(22, 10, 3, 8).png().toBuffer());
  good['dogs/日本語の犬.png'] = [22, 10];
  put('dogs/Ünïcödé, comma.jpg', await jpeg(23, 10, 9));
  good['dogs/Ünïcödé, comma.jpg'] = [23, 10];
  put('UPPER.JPG', await jpeg(24, 10, 10));
  good['UPPER.JPG'] = [24, 10];
  put('Mixed.PnG', await rawImage(25, 10, 3, 11).png().toBuffer());
  good['Mixed.PnG'] = [25, 10];

  // Pixel formats.
  put('formats/gray.png', await rawImage(26, 10, 1, 12).png().toBuffer());
  good['formats/gray.png'] = [26, 10];
  put('formats/gray-alpha.png', await rawImage(27, 10, 2, 13).png().toBuffer());
  good['formats/gray-alpha.png'] = [27, 10];
  put('formats/palette.png', await rawImage(28, 10, 3, 14).png({ palette: true, colours: 16 }).toBuffer());
  good['formats/palette.png'] = [28, 10];
  put('formats/sixteen-bit.png', await rawImage(29, 10, 3, 15).toColourspace('rgb16').png().toBuffer());
  good['formats/sixteen-bit.png'] = [29, 10];
  put('formats/cmyk.jpg', await rawImage(30, 10, 3, 16).toColourspace('cmyk').jpeg().toBuffer());
  good['formats/cmyk.jpg'] = [30, 10];
  // Stored 40×20 with EXIF orientation 6 (rotate 90°): shown, and recorded, as 20×40.
  put(
    'formats/rotated.jpg',
    await rawImage(40, 20, 3, 17).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  );
  good['formats/rotated.jpg'] = [20, 40];
  put('formats/animated.gif', await animated('gif', 31, 12, 3));
  good['formats/animated.gif'] = [31, 12];
  put('formats/animated.webp', await animated('webp', 32, 12, 3));
  good['formats/animated.webp'] = [32, 12];
  put('formats/classic.bmp', bmp24(13, 7, noise(13, 7, 3, 18)));
  good['formats/classic.bmp'] = [13, 7];
  put('formats/v5-alpha.BMP', bmpV5(9, 5, noise(9, 5, 4, 19)));
  good['formats/v5-alpha.BMP'] = [9, 5];

  // A directory named like an image is a directory; its images are imported.
  put('folder.jpg/inside.jpg', await jpeg(16, 16, 20));
  good['folder.jpg/inside.jpg'] = [16, 16];

  // Files that cannot be used.
  put('broken/empty.jpg', Buffer.alloc(0));
  bad['broken/empty.jpg'] = /empty file/;
  const full = await jpeg(320, 240, 21);
  put('broken/truncated.jpg', full.subarray(0, Math.floor(full.length / 2)));
  bad['broken/truncated.jpg'] = /truncated|premature|damaged/i;
  const fullPng = await rawImage(200, 100, 3, 22).png().toBuffer();
  put('broken/truncated.png', fullPng.subarray(0, Math.floor(fullPng.length / 2)));
  bad['broken/truncated.png'] = /truncated|end of stream|damaged/i;
  put('broken/notes.jpg', 'These are my notes, not a picture.\n');
  bad['broken/notes.jpg'] = /not an image.*text/;
  put('broken/page.png', '<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n');
  bad['broken/page.png'] = /not an image.*HTML/;
  put('broken/random.webp', noise(500, 1, 1, 23));
  bad['broken/random.webp'] = /not an image|unrecognised/;
  put('broken/bomb.png', pngClaiming(20000, 20000));
  bad['broken/bomb.png'] = /20000×20000.*100-megapixel limit/;

  // Not a regular file: a named pipe with an image name (opening it would block forever, so it is never opened).
  if (process.platform !== 'win32') {
    execFileSync('mkfifo', [join(root, 'broken', 'pipe.jpg')]);
    bad['broken/pipe.jpg'] = /not a regular file \(a named pipe\)/;
  }

  // Symbolic links: a loop back to the top (the walk must end), a link that points at itself, a broken link,
  // and a second path to a file that is already imported (imported once).
  symlinkSync('..', join(root, 'cats', 'loop'));
  symlinkSync('self.jpg', join(root, 'self.jpg'));
  bad['self.jpg'] = /symbolic link loop/;
  symlinkSync('does-not-exist.jpg', join(root, 'dangling.jpg'));
  bad['dangling.jpg'] = /broken symbolic link/;
  symlinkSync(join('cats', 'a.jpg'), join(root, 'alias-of-a.jpg'));

  // Ignored silently: hidden files and folders, other extensions.
  put('.hidden.jpg', await jpeg(8, 8, 24));
  put('.cache/x.jpg', await jpeg(8, 8, 25));
  put('cats/readme.txt', 'not an image extension');
  put('dogs/data.json', '{}');
  put('cats/Thumbs.db', 'windows thumbnail cache');
  ignored.push(
    '.hidden.jpg',
    '.cache/x.jpg',
    'cats/readme.txt',
    'dogs/data.json',
    'cats/Thumbs.db',
    'alias-of-a.jpg',
  );
  return { good, bad, ignored };
}
