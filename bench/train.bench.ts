/**
 * Fine-tune benchmark. (1) Feature extraction: full-size vgg16_bn at 224 with random weights on ONNX Runtime (CPU,
 * one thread per core), fc7 features of real images (Fashion-MNIST PNGs) written to the float16 cache, images/s;
 * then the same images read back from the cache. (2) Head training on 1,000 images with cached features — random
 * non-negative features at full size, 10 classes, `last` (4096 → 10) and `full` (25088 → 4096 → 4096 → 10) — in
 * TF.js (the backend loadTf picks) and in PyTorch (/usr/bin/python3, every core) on the same features with the same
 * epochs, batch size, optimiser and validation pass; ratio = PyTorch time / TF.js time (target ≥ 0.8).
 *
 * Environment: SORTA_BENCH_IMAGES (default 24), SORTA_BENCH_LAST_EPOCHS (default 10), SORTA_BENCH_FULL_EPOCHS
 * (default 1; 0 skips a mode).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTf } from '../electron/compute/tf-backend.js';
import { stratifiedSplit, type TrainingData } from '../electron/train/data.js';
import { FeatureCache } from '../electron/train/feature-cache.js';
import { extractFeatures } from '../electron/train/features.js';
import { SeededRandom } from '../electron/train/rng.js';
import { trainHead } from '../electron/train/trainer.js';
import { vggSpec } from '../electron/vision/arch.js';
import { OrtVggEngine } from '../electron/vision/ort-engine.js';
import { randomVggWeights } from '../test/helpers/random-vgg.js';
import { writeFashionFolders } from '../test/train/helpers.js';

const IMAGES = Number(process.env.SORTA_BENCH_IMAGES ?? 24);
const LAST_EPOCHS = Number(process.env.SORTA_BENCH_LAST_EPOCHS ?? 10);
const FULL_EPOCHS = Number(process.env.SORTA_BENCH_FULL_EPOCHS ?? 1);
const TRAIN_IMAGES = 1000;
const CLASSES = 10;
const BATCH = 32;
const dir = mkdtempSync(join(tmpdir(), 'sorta-bench-train-'));

async function benchExtraction(): Promise<void> {
  const classes = ['t-shirt', 'trouser', 'bag', 'sneaker'];
  await writeFashionFolders(join(dir, 'images'), classes, Math.ceil(IMAGES / classes.length));
  const files = classes.flatMap((c) =>
    readdirSync(join(dir, 'images', c)).map((f) => join(dir, 'images', c, f)),
  );
  const images = files.slice(0, IMAGES).map((path, i) => ({ path, hash: i.toString(16).padStart(16, '0') }));
  const spec = vggSpec('vgg16_bn');
  const weights = { ...randomVggWeights(spec, { seed: 1 }), checksum: 'bench' };
  const cache = new FeatureCache(
    join(dir, 'cache'),
    { arch: 'vgg16_bn', weightsChecksum: 'bench', inputSize: 224, layer: 'fc7', flipped: false },
    spec.hidden,
  );
  let t = performance.now();
  const engine = await OrtVggEngine.create(weights, { inputSize: 224, outputs: ['fc7'] });
  const sessionMs = performance.now() - t;
  t = performance.now();
  const computed = await extractFeatures({ images, layer: 'fc7', cache, createEngine: async () => engine });
  const extractMs = performance.now() - t;
  t = performance.now();
  const cached = await extractFeatures({
    images,
    layer: 'fc7',
    cache,
    createEngine: () => Promise.reject(new Error('should be cached')),
  });
  const cachedMs = performance.now() - t;
  console.log(
    `feature extraction, vgg16_bn 224, fc7, ORT CPU: ${computed.computed} images in ${(extractMs / 1000).toFixed(1)} s ` +
      `= ${((computed.computed * 1000) / extractMs).toFixed(2)} images/s (session start ${(sessionMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `feature cache read: ${cached.cached} images in ${cachedMs.toFixed(1)} ms = ` +
      `${((cached.cached * 1000) / cachedMs).toFixed(0)} images/s`,
  );
}

function randomData(dim: number): TrainingData {
  const random = new SeededRandom(11);
  const samples = Array.from({ length: TRAIN_IMAGES }, (_, i) => {
    const features = new Float32Array(dim);
    // ReLU-like: about half zeros, the rest positive.
    for (let d = 0; d < dim; d++) features[d] = Math.max(0, random.next() * 2 - 1);
    return { label: i % CLASSES, features };
  });
  return { classes: Array.from({ length: CLASSES }, (_, k) => `c${k}`), featureSize: dim, samples };
}

function torchTime(mode: 'last' | 'full', data: TrainingData, epochs: number, lr: number): number | null {
  const python = '/usr/bin/python3';
  const split = stratifiedSplit(
    data.samples.map((s) => s.label),
    CLASSES,
    0.2,
    new SeededRandom(0),
  );
  const work = join(dir, `torch-${mode}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  const matrix = new Float32Array(data.samples.length * data.featureSize);
  data.samples.forEach((s, i) => matrix.set(s.features, i * data.featureSize));
  writeFileSync(join(work, 'features.f32'), new Uint8Array(matrix.buffer));
  writeFileSync(
    join(work, 'spec.json'),
    JSON.stringify({
      mode,
      count: data.samples.length,
      dim: data.featureSize,
      classes: CLASSES,
      hidden: 4096,
      labels: data.samples.map((s) => s.label),
      train: split.train,
      val: split.val,
      lr,
      batch: BATCH,
      epochs,
    }),
  );
  const script = fileURLToPath(new URL('./train_torch.py', import.meta.url));
  // One thread and every core: on a busy machine PyTorch's thread pool can be slower with more threads, so the
  // faster of the two is the reference (the one least favourable to TF.js).
  const times: number[] = [];
  for (const threads of [1, availableParallelism()]) {
    const run = spawnSync(python, [script, work, String(threads)], { encoding: 'utf8' });
    if (run.status !== 0) {
      console.log(`PyTorch reference failed: ${run.stderr.trim().split('\n').at(-1)}`);
      return null;
    }
    const ms = (JSON.parse(run.stdout) as { ms: number }).ms;
    console.log(`  PyTorch ${mode}, ${threads} thread(s): ${(ms / 1000).toFixed(2)} s`);
    times.push(ms);
  }
  return Math.min(...times);
}

async function benchTraining(): Promise<void> {
  const { tf, backend } = await loadTf();
  for (const [mode, dim, epochs] of [
    ['last', 4096, LAST_EPOCHS],
    ['full', 25088, FULL_EPOCHS],
  ] as const) {
    if (epochs === 0) continue;
    const data = randomData(dim);
    const t = performance.now();
    // Early stopping off (patience ≥ epochs) so both sides run the same number of epochs.
    const result = await trainHead(tf, data, { mode, hidden: 4096, epochs, patience: epochs + 1, seed: 0 });
    const tfMs = performance.now() - t;
    const torchMs = torchTime(mode, data, epochs, result.options.learningRate);
    console.log(
      `head training '${mode}' (${dim} → ${mode === 'last' ? '' : '4096 → 4096 → '}${CLASSES}), ${TRAIN_IMAGES} images ` +
        `(${result.split.train.length} train / ${result.split.val.length} val), ${epochs} epoch(s), batch ${BATCH}: ` +
        `TF.js ${backend} ${(tfMs / 1000).toFixed(2)} s` +
        (torchMs === null
          ? ''
          : `, PyTorch ${(torchMs / 1000).toFixed(2)} s, ratio PyTorch/TF.js ${(torchMs / tfMs).toFixed(2)}`),
    );
  }
}

try {
  console.log(`load average at start: ${loadavg()[0].toFixed(1)}`);
  await benchExtraction();
  await benchTraining();
  console.log(`load average at end: ${loadavg()[0].toFixed(1)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
