/**
 * One fine-tuning run, start to end: load the weights, get the backbone's features for every labelled image (cache
 * first), train the head in TF.js, and hand back everything the model record needs. The worker runs this; tests and
 * benchmarks may call it directly. Refuses, before any heavy work, what cannot be trained.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { loadTf } from '../compute/tf-backend.js';
import { describeFsError, SortaError } from '../shared/errors.js';
import { isArchName, pooledFeatureSize } from '../vision/arch.js';
import { OrtVggEngine } from '../vision/ort-engine.js';
import { loadVggWeights, type LoadedWeights } from '../vision/weights.js';
import { checkTrainingData, type TrainingSample } from './data.js';
import { FeatureCache, type FeatureLayer } from './feature-cache.js';
import { extractFeatures } from './features.js';
import type { HeadMode, NamedTensor } from './head-model.js';
import type { TrainEvent, TrainJob, TrainJobResult } from './messages.js';
import { trainHead } from './trainer.js';

export interface JobHooks {
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

/** Refusals that need no weights: run first, so a mistake is reported in milliseconds. */
export function checkJob(job: TrainJob): void {
  if (!job.weightsPath)
    throw new SortaError(
      'invalid-input',
      'fine-tuning needs VGG weights: choose a weights file (e.g. vgg16_bn.safetensors) first',
    );
  if (!isArchName(job.arch)) throw new SortaError('usage', `unknown architecture '${job.arch}'`);
  const counts = new Array<number>(job.classes.length).fill(0);
  for (const image of job.images) counts[image.label]++;
  checkTrainingData({
    classes: job.classes,
    featureSize: 0,
    samples: counts.flatMap((n, label) =>
      Array.from({ length: n }, () => ({ label, features: new Float32Array() })),
    ),
  });
}

export function resolveHeadMode(
  requested: TrainJob['headMode'],
  weights: LoadedWeights,
  path: string,
): HeadMode {
  const mode = !requested || requested === 'auto' ? (weights.hasClassifier ? 'last' : 'full') : requested;
  if (mode === 'last' && !weights.hasClassifier)
    throw new SortaError(
      'invalid-weights',
      `head mode 'last' trains a new layer on the fc7 features, but weights file ${path} has no ImageNet ` +
        `classifier (classifier.0/.3); use head mode 'full'`,
    );
  return mode;
}

export async function runTrainingJob(job: TrainJob, hooks: JobHooks = {}): Promise<TrainJobResult> {
  const started = performance.now();
  const emit = (event: TrainEvent) => hooks.onEvent?.(event);
  checkJob(job);

  emit({ type: 'phase', phase: 'weights', done: 0, total: 1 });
  let weights: LoadedWeights | undefined = await loadVggWeights(job.weightsPath, job.arch, {
    hidden: job.hidden,
  });
  const headMode = resolveHeadMode(job.headMode, weights, job.weightsPath);
  const { spec, checksum } = weights;
  emit({ type: 'phase', phase: 'weights', done: 1, total: 1 });

  const layer: FeatureLayer = headMode === 'last' ? 'fc7' : 'pooled';
  const dim = layer === 'fc7' ? spec.hidden : pooledFeatureSize(spec);
  const key = { arch: job.arch, weightsChecksum: checksum, inputSize: job.inputSize, layer };
  const cache = new FeatureCache(job.cacheDir, { ...key, flipped: false }, dim);
  const flippedCache = job.augment
    ? new FeatureCache(job.cacheDir, { ...key, flipped: true }, dim)
    : undefined;
  const pretrained = new Map<string, NamedTensor>();
  if (headMode === 'full' && weights.hasClassifier)
    for (const name of [
      'classifier.0.weight',
      'classifier.0.bias',
      'classifier.3.weight',
      'classifier.3.bias',
    ])
      pretrained.set(name, weights.tensors.get(name)!);

  const usable = await withHashes(job, emit, hooks.signal);
  const hashed = usable.map((u) => ({ path: u.image.path, hash: u.hash }));
  const total = hashed.length;
  emit({ type: 'phase', phase: 'features', done: 0, total });
  const extracted = await extractFeatures({
    images: hashed,
    layer,
    cache,
    flippedCache,
    signal: hooks.signal,
    createEngine: async () => {
      const engine = await OrtVggEngine.create(weights!, { inputSize: job.inputSize, outputs: [layer] });
      return engine;
    },
    onProgress: (p) => emit({ type: 'phase', phase: 'features', done: p.done, total, cached: p.cached }),
  });
  // ORT holds its own copy of the backbone now; keep only what training needs.
  weights = undefined;
  for (const failure of extracted.errors)
    emit({ type: 'warning', message: `skipped ${failure.file}: ${failure.message}` });

  const samples: TrainingSample[] = [];
  usable.forEach(({ image }, i) => {
    const features = extracted.features[i];
    if (!features) return;
    samples.push({
      label: image.label,
      features,
      flipped: extracted.flipped?.[i] ?? undefined,
      imageId: image.imageId,
    });
  });
  const data = { classes: job.classes, featureSize: dim, samples };

  const { tf } = await loadTf();
  emit({ type: 'phase', phase: 'training', done: 0, total: job.epochs ?? 0 });
  const trained = await trainHead(
    tf,
    data,
    {
      mode: headMode,
      hidden: spec.hidden,
      pretrained,
      valSplit: job.valSplit,
      seed: job.seed,
      epochs: job.epochs,
      batchSize: job.batchSize,
      learningRate: job.learningRate,
      patience: job.patience,
      augment: job.augment,
    },
    {
      signal: hooks.signal,
      onEpochStart: (epoch, epochs) =>
        emit({ type: 'phase', phase: 'training', done: epoch - 1, total: epochs }),
      onEpoch: (report) => {
        emit({ type: 'epoch', ...report });
        emit({ type: 'phase', phase: 'training', done: report.epoch, total: report.epochs });
      },
    },
  );

  return {
    arch: job.arch,
    inputSize: job.inputSize,
    headMode,
    classes: [...job.classes],
    weightsPath: job.weightsPath,
    weightsChecksum: checksum,
    hidden: spec.hidden,
    head: trained.weights,
    metrics: trained.metrics,
    valLoss: trained.valLoss,
    curves: trained.curves,
    epochsRun: trained.epochsRun,
    bestEpoch: trained.bestEpoch,
    options: trained.options,
    pretrainedLayers: trained.pretrainedLayers,
    validation: trained.split.val.map((s, i) => ({
      imageId: samples[s].imageId ?? -1,
      actual: samples[s].label,
      predicted: trained.valPredictions[i],
    })),
    trainImages: trained.split.train.length,
    features: {
      computed: extracted.computed,
      cached: extracted.cached,
      failed: extracted.errors.map((e) => ({ path: e.file, message: e.message })),
    },
    trainMs: Math.round(performance.now() - started),
  };
}

/** Each image with its content hash; an image that cannot be read is reported and left out. */
async function withHashes(
  job: TrainJob,
  emit: (event: TrainEvent) => void,
  signal?: AbortSignal,
): Promise<{ image: TrainJob['images'][number]; hash: string }[]> {
  const out: { image: TrainJob['images'][number]; hash: string }[] = [];
  for (const image of job.images) {
    if (signal?.aborted) break;
    try {
      out.push({ image, hash: image.hash ?? (await hashFile(image.path)) });
    } catch (error) {
      emit({ type: 'warning', message: `skipped ${(error as Error).message}` });
    }
  }
  return out;
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', (error) => reject(new SortaError('io', `image ${path}: ${describeFsError(error)}`)))
      .on('end', () => resolve(hash.digest('hex')));
  });
}
