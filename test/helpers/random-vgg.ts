/**
 * Random VGG weights with torchvision names and PyTorch layouts, for tests and benchmarks that need no PyTorch
 * reference: He-scaled conv kernels, non-trivial BatchNorm statistics, small classifier weights. Deterministic for
 * a given seed.
 */
import { expectedTensors, type VggSpec } from '../../electron/vision/arch.js';

export interface RandomVggWeights {
  spec: VggSpec;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  hasClassifier: boolean;
}

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomVggWeights(
  spec: VggSpec,
  options: { seed?: number; classifier?: boolean } = {},
): RandomVggWeights {
  const random = seededRandom(options.seed ?? 1);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const hasClassifier = options.classifier ?? true;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of expectedTensors(spec, { classifier: hasClassifier })) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const kind = name.slice(name.lastIndexOf('.') + 1);
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const isBn = shape.length === 1 && expectedTensors(spec).has(name.replace(/\.\w+$/, '.running_var'));
    for (let i = 0; i < size; i++) {
      if (shape.length > 1) data[i] = uniform(-1, 1) * Math.sqrt(6 / fanIn);
      else if (!isBn) data[i] = uniform(-0.1, 0.1);
      else if (kind === 'weight') data[i] = uniform(0.5, 1.5);
      else if (kind === 'bias') data[i] = uniform(-0.2, 0.2);
      else if (kind === 'running_mean') data[i] = uniform(-0.5, 0.5);
      else data[i] = uniform(0.5, 2);
    }
    tensors.set(name, { shape, data });
  }
  return { spec, tensors, hasClassifier };
}

/** A batch of n random NCHW images with values like normalised pixels. */
export function randomBatch(n: number, size: number, seed = 7): Float32Array {
  const random = seededRandom(seed);
  const batch = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < batch.length; i++) batch[i] = (random() - 0.5) * 4;
  return batch;
}
