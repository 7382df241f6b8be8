/**
 * Real images for tests: Fashion-MNIST (Debian's dataset-fashion-mnist package, IDX files gzipped in
 * /usr/share/datasets/fashion-mnist) written out as 28×28 grayscale PNGs.
 * IDX layout: a big-endian header (magic, count, rows, cols for images; magic, count for labels), then uint8 data.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_CLASSES = [
  't-shirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle-boot',
] as const;
export type FashionClass = (typeof FASHION_CLASSES)[number];

export interface FashionSet {
  count: number;
  /** 28×28 uint8 pixels of image i. */
  pixels(i: number): Buffer;
  label(i: number): FashionClass;
}

/** Loads the 10,000-image test split (or the 60,000-image train split). */
export function loadFashionMnist(split: 't10k' | 'train' = 't10k'): FashionSet {
  const images = gunzipSync(readFileSync(join(FASHION_MNIST_DIR, `${split}-images-idx3-ubyte.gz`)));
  const labels = gunzipSync(readFileSync(join(FASHION_MNIST_DIR, `${split}-labels-idx1-ubyte.gz`)));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049)
    throw new Error(`${FASHION_MNIST_DIR}: not Fashion-MNIST IDX files`);
  const count = images.readUInt32BE(4);
  const size = images.readUInt32BE(8) * images.readUInt32BE(12);
  return {
    count,
    pixels: (i) => images.subarray(16 + i * size, 16 + (i + 1) * size),
    label: (i) => FASHION_CLASSES[labels[8 + i]],
  };
}

export interface WrittenImage {
  path: string;
  label: FashionClass;
  /** Index in the split. */
  index: number;
}

/**
 * Writes `perClass` PNGs of each wanted class into `dir` (or `dir/<class>/` with `folders`), taking images from
 * `start` on so that different calls can use disjoint images. File names are `<prefix><class>-<nn>.png`.
 */
export async function writeFashionPngs(
  set: FashionSet,
  dir: string,
  options: { classes: FashionClass[]; perClass: number; start?: number; folders?: boolean; prefix?: string },
): Promise<WrittenImage[]> {
  const written: WrittenImage[] = [];
  const taken = new Map<FashionClass, number>(options.classes.map((c) => [c, 0]));
  for (
    let i = options.start ?? 0;
    i < set.count && written.length < options.classes.length * options.perClass;
    i++
  ) {
    const label = set.label(i);
    const n = taken.get(label);
    if (n === undefined || n >= options.perClass) continue;
    taken.set(label, n + 1);
    const folder = options.folders ? join(dir, label) : dir;
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `${options.prefix ?? ''}${label}-${String(n).padStart(2, '0')}.png`);
    await sharp(set.pixels(i), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(path);
    written.push({ path, label, index: i });
  }
  return written;
}
