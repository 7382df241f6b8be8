/**
 * Features of the frozen backbone for the labelled images, read from the feature cache when present and otherwise
 * computed on the inference engine (ONNX Runtime by default) and stored. With flip augmentation the mirror image's
 * features are computed in the same pass (the engine sees the batch and its flipped copy) and cached under their own
 * key. Images with the same content are computed once.
 */
import { CancelledError } from '../shared/errors.js';
import type { InferenceEngine } from '../vision/ort-engine.js';
import { runPipeline, type PipelineError } from '../vision/pipeline.js';
import type { FeatureCache, FeatureLayer } from './feature-cache.js';

export interface FeatureImage {
  path: string;
  /** SHA-256 of the file's content, hex. */
  hash: string;
}

export interface FeatureProgress {
  done: number;
  total: number;
  /** Of `done`, how many came from the cache. */
  cached: number;
}

export interface ExtractFeaturesOptions {
  images: readonly FeatureImage[];
  layer: FeatureLayer;
  cache: FeatureCache;
  /** Cache for the flipped images' features; when given, those are returned (and computed) too. */
  flippedCache?: FeatureCache;
  /** Started only when something is missing from the cache (loading the weights into a session takes seconds). */
  createEngine: () => Promise<InferenceEngine>;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: FeatureProgress) => void;
}

export interface ExtractedFeatures {
  /** Per input image; null where the image could not be read (see `errors`). */
  features: (Float32Array | null)[];
  flipped: (Float32Array | null)[] | null;
  /** Images whose features were computed now (the rest came from the cache). */
  computed: number;
  cached: number;
  errors: PipelineError[];
}

const FLIP_SUFFIX = ':flipped';

export async function extractFeatures(options: ExtractFeaturesOptions): Promise<ExtractedFeatures> {
  const { images, cache, flippedCache, layer } = options;
  const total = images.length;
  const byHash = new Map<string, { plain: Float32Array | null; flipped: Float32Array | null }>();
  for (const image of images) {
    if (byHash.has(image.hash)) continue;
    byHash.set(image.hash, {
      plain: cache.get(image.hash),
      flipped: flippedCache ? flippedCache.get(image.hash) : null,
    });
  }
  const missing = new Map<string, string>();
  for (const image of images) {
    const entry = byHash.get(image.hash)!;
    if (!entry.plain || (flippedCache && !entry.flipped)) missing.set(image.hash, image.path);
  }
  const cachedCount = images.filter((i) => !missing.has(i.hash)).length;
  options.onProgress?.({ done: cachedCount, total, cached: cachedCount });

  const errors: PipelineError[] = [];
  let computed = 0;
  if (missing.size > 0) {
    if (options.signal?.aborted) throw new CancelledError();
    const hashes = [...missing.keys()];
    const files = [...missing.values()];
    const sharing = new Map<string, number>();
    for (const image of images) sharing.set(image.hash, (sharing.get(image.hash) ?? 0) + 1);
    const inner = await options.createEngine();
    const engine = flippedCache ? new FlippingEngine(inner, layer) : inner;
    let doneImages = cachedCount;
    try {
      const result = await runPipeline(engine, files, {
        batchSize: options.batchSize,
        signal: options.signal,
        onBatch: ({ indices, outputs }) => {
          const plain = outputs[layer];
          const mirror = outputs[layer + FLIP_SUFFIX];
          const dim = plain.length / indices.length;
          indices.forEach((fileIndex, row) => {
            const hash = hashes[fileIndex];
            const entry = byHash.get(hash)!;
            // Train on exactly what the cache will give back next time (float16-rounded), so a run computes the
            // same numbers whether its features were cached or not.
            entry.plain = cache.put(hash, plain.subarray(row * dim, (row + 1) * dim));
            if (flippedCache && mirror)
              entry.flipped = flippedCache.put(hash, mirror.subarray(row * dim, (row + 1) * dim));
            computed++;
            doneImages += sharing.get(hash) ?? 1;
          });
          options.onProgress?.({ done: doneImages, total, cached: cachedCount });
        },
      });
      errors.push(...result.errors);
    } finally {
      await inner.close();
    }
  }
  return {
    features: images.map((i) => byHash.get(i.hash)!.plain),
    flipped: flippedCache ? images.map((i) => byHash.get(i.hash)!.flipped) : null,
    computed,
    cached: cachedCount,
    errors,
  };
}

/** Runs each batch twice, as given and mirrored left–right, returning both (the mirror under `layer:flipped`). */
class FlippingEngine implements InferenceEngine {
  constructor(
    private readonly inner: InferenceEngine,
    private readonly layer: FeatureLayer,
  ) {}

  get inputSize(): number {
    return this.inner.inputSize;
  }

  get outputs() {
    return this.inner.outputs;
  }

  async run(input: Float32Array, count: number): Promise<Record<string, Float32Array>> {
    const plain = await this.inner.run(input, count);
    const mirrored = await this.inner.run(flipChw(input, count, this.inner.inputSize), count);
    return { ...plain, [this.layer + FLIP_SUFFIX]: mirrored[this.layer] };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** [n, 3, S, S] → the same images mirrored horizontally. */
export function flipChw(input: Float32Array, count: number, size: number): Float32Array {
  const out = new Float32Array(count * 3 * size * size);
  for (let row = 0; row < count * 3 * size; row++) {
    const base = row * size;
    for (let x = 0; x < size; x++) out[base + x] = input[base + size - 1 - x];
  }
  return out;
}
