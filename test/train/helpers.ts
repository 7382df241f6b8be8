/**
 * Fixtures for the fine-tune tests: real Fashion-MNIST images (Debian's dataset-fashion-mnist, IDX files gzipped)
 * written as PNG class folders, imported into a real project, and a small random VGG backbone saved as safetensors.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { vggSpec, type ArchName } from '../../electron/vision/arch.js';
import { encodeSafetensors } from '../../electron/vision/safetensors.js';
import { loadFashionMnist } from '../helpers/fashion-mnist-png.js';
import { randomVggWeights } from '../helpers/random-vgg.js';

/** Writes `perClass` 28×28 PNGs of each class into `<dir>/<class>/`, from the t10k split. */
export async function writeFashionFolders(
  dir: string,
  classes: readonly string[],
  perClass: number,
  options: { skip?: number } = {},
): Promise<void> {
  const set = loadFashionMnist('t10k');
  const seen = new Map<string, number>();
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < set.count; i++) {
    const name = set.label(i);
    if (!classes.includes(name)) continue;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n < (options.skip ?? 0) || n >= (options.skip ?? 0) + perClass) continue;
    mkdirSync(join(dir, name), { recursive: true });
    writes.push(
      sharp(Buffer.from(set.pixels(i)), { raw: { width: 28, height: 28, channels: 1 } })
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
