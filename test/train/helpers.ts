/**
 * Fixtures for the fine-tune tests: real Fashion-MNIST images (Debian's dataset-fashion-mnist, IDX files gzipped)
 * written as PNG class folders, imported into a real project, and a small random VGG backbone saved as safetensors.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { vggSpec, type ArchName } from '../../electron/vision/arch.js';
import { encodeSafetensors } from '../../electron/vision/safetensors.js';
import { randomVggWeights } from '../helpers/random-vgg.js';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_NAMES = [
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
];

/** IDX: big-endian magic + dimensions, then uint8 data. */
function readIdx(file: string): { dims: number[]; data: Buffer } {
  const bytes = gunzipSync(readFileSync(join(FASHION_DIR, file)));
  const ndim = bytes[3];
  const dims = Array.from({ length: ndim }, (_, i) => bytes.readUInt32BE(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * ndim) };
}

/** Writes `perClass` 28×28 PNGs of each class into `<dir>/<class>/`, from the t10k split. */
export async function writeFashionFolders(
  dir: string,
  classes: readonly string[],
  perClass: number,
  options: { skip?: number } = {},
): Promise<void> {
  const images = readIdx('t10k-images-idx3-ubyte.gz');
  const labels = readIdx('t10k-labels-idx1-ubyte.gz');
  const size = images.dims[1] * images.dims[2];
  const seen = new Map<string, number>();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < labels.dims[0]; i++) {
    const name = FASHION_NAMES[labels.data[i]];
    if (!classes.includes(name)) continue;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n < (options.skip ?? 0) || n >= (options.skip ?? 0) + perClass) continue;
    mkdirSync(join(dir, name), { recursive: true });
    const pixels = images.data.subarray(i * size, (i + 1) * size);
    writes.push(
      sharp(Buffer.from(pixels), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(join(dir, name, `${name}-${String(i).padStart(5, '0')}.png`)),
    );
  }
  await Promise.all(writes);
}

/** A small VGG (1/16 width, 64-wide classifier) with random weights, saved as torchvision-named safetensors. */
export function writeSmallBackbone(
  path: string,
  options: { arch?: ArchName; classifier?: boolean; seed?: number } = {},
): void {
  const spec = vggSpec(options.arch ?? 'vgg11_bn', { widthScale: 1 / 16, hidden: 64, numClasses: 10 });
  const weights = randomVggWeights(spec, { seed: options.seed ?? 5, classifier: options.classifier ?? true });
  writeFileSync(path, Buffer.concat(encodeSafetensors(weights.tensors)));
}

export function tempDir(prefix = 'sorta-train-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Nearest-centroid accuracy: each validation vector gets the class of the closest training-class mean. */
export function nearestCentroidAccuracy(
  train: { label: number; features: Float32Array }[],
  val: { label: number; features: Float32Array }[],
  numClasses: number,
): number {
  const dim = train[0].features.length;
  const sums = Array.from({ length: numClasses }, () => new Float64Array(dim));
  const counts = new Array<number>(numClasses).fill(0);
  for (const s of train) {
    counts[s.label]++;
    for (let d = 0; d < dim; d++) sums[s.label][d] += s.features[d];
  }
  const centroids = sums.map((sum, k) => sum.map((v) => v / Math.max(1, counts[k])));
  let correct = 0;
  for (const s of val) {
    let best = -1;
    let bestDistance = Infinity;
    centroids.forEach((c, k) => {
      let distance = 0;
      for (let d = 0; d < dim; d++) distance += (s.features[d] - c[d]) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [k, distance];
    });
    if (best === s.label) correct++;
  }
  return correct / val.length;
}
