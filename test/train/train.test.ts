import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadTf } from '../../electron/compute/tf-backend.js';
import { CancelledError } from '../../electron/shared/errors.js';
import { importFolder } from '../../electron/store/import.js';
import { getModel, listModels, trainingSet } from '../../electron/store/models-repo.js';
import { openProject, type Project } from '../../electron/store/project.js';
import { buildModelOnnx, exportModel, importModel } from '../../electron/train/export.js';
import { FeatureCache } from '../../electron/train/feature-cache.js';
import type { TrainEvent } from '../../electron/train/messages.js';
import { trainProject } from '../../electron/train/train-project.js';
import { loadOrt } from '../../electron/vision/ort-engine.js';
import { preprocessBatch } from '../../electron/vision/preprocess.js';
import { nearestCentroidAccuracy, tempDir, writeFashionFolders, writeSmallBackbone } from './helpers.js';

const CLASSES = ['t-shirt', 'trouser', 'sneaker', 'bag'];
const PER_CLASS = 40;
const INPUT_SIZE = 64;
const ARCH = 'vgg11_bn';

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('fine-tuning a project on Fashion-MNIST', () => {
  const { dir, cleanup } = tempDir();
  const withClassifier = join(dir, 'vgg11_bn-small.safetensors');
  const featuresOnly = join(dir, 'vgg11_bn-features.safetensors');
  const otherArch = join(dir, 'vgg13_bn-small.safetensors');
  let project: Project;

  before(async () => {
    await writeFashionFolders(join(dir, 'images'), CLASSES, PER_CLASS);
    writeSmallBackbone(withClassifier);
    writeSmallBackbone(featuresOnly, { classifier: false });
    writeSmallBackbone(otherArch, { arch: 'vgg13_bn' });
    project = openProject(join(dir, 'fashion.sorta'));
    const imported = await importFolder(project, join(dir, 'images'), { thumbnails: false });
    assert.equal(imported.labeled, CLASSES.length * PER_CLASS);
  });

  after(() => {
    project?.close();
    cleanup();
  });

  /** The cached features of every labelled image, with its class, read back from the cache folder. */
  function cachedFeatures(weights: string, layer: 'fc7' | 'pooled', dim: number) {
    const cache = new FeatureCache(
      project.cacheDir,
      { arch: ARCH, weightsChecksum: sha256(weights), inputSize: INPUT_SIZE, layer, flipped: false },
      dim,
    );
    const set = trainingSet(project);
    return set.images.map((image) => ({
      imageId: image.imageId,
      label: image.label,
      features: cache.get(image.hash!)!,
    }));
  }

  it('trains with the defaults in a worker, reports progress, and beats nearest centroid on the same features', async () => {
    const events: TrainEvent[] = [];
    const result = await trainProject(
      project,
      // A file without the classifier: VGG's 4096-wide fresh layers would be slow here, so 64 wide.
      { weightsPath: featuresOnly, arch: ARCH, inputSize: INPUT_SIZE, hidden: 64, seed: 3 },
      { onEvent: (e) => events.push(e) },
    );
    // Weights without the ImageNet classifier: the whole classifier is trained on the pooled features.
    assert.equal(result.headMode, 'full');
    assert.deepEqual(result.features, { computed: CLASSES.length * PER_CLASS, cached: 0, failed: [] });

    const phases = events.flatMap((e) => (e.type === 'phase' ? [e.phase] : []));
    assert.deepEqual([...new Set(phases)], ['weights', 'features', 'training']);
    const featureDone = events.filter((e) => e.type === 'phase' && e.phase === 'features').at(-1);
    assert.deepEqual(featureDone, { type: 'phase', phase: 'features', done: 160, total: 160, cached: 0 });
    const epochs = events.filter((e) => e.type === 'epoch');
    assert.equal(epochs.length, result.epochs);
    assert.ok(epochs.every((e) => e.type === 'epoch' && e.valLoss !== null && e.etaMs >= 0));

    const model = getModel(project, result.modelId);
    assert.equal(model.arch, ARCH);
    assert.equal(model.inputSize, INPUT_SIZE);
    assert.equal(model.headMode, 'full');
    assert.deepEqual(model.classes, trainingSet(project).classes);
    assert.equal(model.weightsChecksum, sha256(featuresOnly));
    const metrics = model.metrics as {
      valAccuracy: number;
      perClass: { support: number }[];
      confusion: number[][];
      validation: { imageId: number; actual: number; predicted: number }[];
    };
    // 20% of 40 per class held out, stratified.
    assert.deepEqual(
      metrics.perClass.map((c) => c.support),
      [8, 8, 8, 8],
    );
    assert.equal(
      metrics.confusion.flat().reduce((a, b) => a + b, 0),
      32,
    );
    const curves = model.curves as { trainLoss: number[]; valLoss: number[] };
    assert.equal(curves.trainLoss.length, result.epochs);
    assert.ok(curves.valLoss[result.bestEpoch - 1] <= Math.min(...curves.valLoss) + 1e-12);

    const all = cachedFeatures(featuresOnly, 'pooled', 32 * 49);
    const valIds = new Set(metrics.validation.map((v) => v.imageId));
    const centroid = nearestCentroidAccuracy(
      all.filter((s) => !valIds.has(s.imageId)),
      all.filter((s) => valIds.has(s.imageId)),
      CLASSES.length,
    );
    assert.ok(
      metrics.valAccuracy > centroid,
      `trained head ${metrics.valAccuracy} should beat nearest centroid ${centroid}`,
    );
  });

  it('re-training reads every feature from the cache and, with the same seed, gives the same metrics', async () => {
    const options = {
      weightsPath: withClassifier,
      arch: ARCH,
      inputSize: INPUT_SIZE,
      seed: 7,
      epochs: 4,
    } as const;
    const first = await trainProject(project, options);
    assert.equal(first.headMode, 'last');
    assert.equal(first.features.computed, 160);
    const second = await trainProject(project, options);
    assert.deepEqual(second.features, { computed: 0, cached: 160, failed: [] });
    assert.deepEqual(second.metrics, first.metrics);
    assert.deepEqual(getModel(project, second.modelId).curves, getModel(project, first.modelId).curves);

    // Another input size never reuses those features.
    const resized = await trainProject(project, { ...options, inputSize: 72 });
    assert.equal(resized.features.computed, 160);
  });

  it('caches the features of flipped images for augmentation', async () => {
    const options = {
      weightsPath: withClassifier,
      arch: ARCH,
      inputSize: INPUT_SIZE,
      epochs: 2,
      augment: true,
    } as const;
    const first = await trainProject(project, options);
    assert.equal(first.features.computed, 160);
    const second = await trainProject(project, options);
    assert.equal(second.features.computed, 0);
    const folders = readdirSync(join(project.cacheDir, 'features'));
    assert.ok(folders.some((f) => f.includes('-fc7-flip-')));
  });

  it('cancels within a second, keeping no model', async () => {
    const before = listModels(project).length;
    const controller = new AbortController();
    let abortedAt = 0;
    const run = trainProject(
      project,
      { weightsPath: withClassifier, arch: ARCH, inputSize: INPUT_SIZE, epochs: 1000, patience: 1000 },
      {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'epoch' && e.epoch === 2 && !abortedAt) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      },
    );
    await assert.rejects(run, (error: unknown) => error instanceof CancelledError);
    assert.ok(performance.now() - abortedAt < 1000, 'cancel took more than a second');
    assert.equal(listModels(project).length, before);
  });

  it('frees every tensor after a training, a cancel and an error', async () => {
    const { tf } = await loadTf();
    const options = {
      weightsPath: withClassifier,
      arch: ARCH,
      inputSize: INPUT_SIZE,
      headMode: 'full',
      epochs: 3,
      worker: false,
    } as const;
    const start = tf.memory().numTensors;
    await trainProject(project, options);
    assert.equal(tf.memory().numTensors, start, 'after a training');

    const controller = new AbortController();
    await assert.rejects(
      trainProject(project, options, {
        signal: controller.signal,
        onEvent: (e) => e.type === 'epoch' && controller.abort(),
      }),
      CancelledError,
    );
    assert.equal(tf.memory().numTensors, start, 'after a cancel');

    await assert.rejects(
      trainProject(project, options, {
        onEvent: (e) => {
          if (e.type === 'epoch') throw new Error('listener failed');
        },
      }),
      /listener failed/,
    );
    assert.equal(tf.memory().numTensors, start, 'after an error');
  });

  it('refuses missing weights, weights of another arch, and head `last` without a classifier', async () => {
    const base = { arch: ARCH, inputSize: INPUT_SIZE, epochs: 1 } as const;
    await assert.rejects(trainProject(project, { ...base, weightsPath: '' }), /needs VGG weights/);
    await assert.rejects(
      trainProject(project, { ...base, weightsPath: join(dir, 'nope.safetensors') }),
      /nope\.safetensors/,
    );
    await assert.rejects(
      trainProject(project, { ...base, weightsPath: otherArch }),
      (error: Error) => error.message.includes('vgg13_bn-small.safetensors') && error.message.includes(ARCH),
    );
    await assert.rejects(
      trainProject(project, { ...base, weightsPath: featuresOnly, hidden: 64, headMode: 'last' }),
      /no ImageNet classifier/,
    );
  });

  it('refuses fewer than two classes and a class without labelled images', async () => {
    const other = tempDir();
    try {
      await writeFashionFolders(join(other.dir, 'one'), ['bag'], 3);
      const small = openProject(join(other.dir, 'small.sorta'));
      try {
        await importFolder(small, join(other.dir, 'one'), { thumbnails: false });
        const options = { weightsPath: withClassifier, arch: ARCH, inputSize: INPUT_SIZE } as const;
        await assert.rejects(trainProject(small, options), /at least two classes.*'bag'/);
        small.db.prepare("INSERT INTO classes (name, color, position) VALUES ('empty', '#000000', 9)").run();
        await assert.rejects(trainProject(small, options), /'empty' has no labelled image/);
      } finally {
        small.close();
      }
    } finally {
      other.cleanup();
    }
  });

  it('exports the whole network as ONNX + metadata; the imported model predicts identically', async () => {
    const trained = await trainProject(project, {
      weightsPath: withClassifier,
      arch: ARCH,
      inputSize: INPUT_SIZE,
      epochs: 3,
      seed: 1,
    });
    const exportDir = join(dir, 'export');
    const exported = await exportModel(project, trained.modelId, exportDir);
    assert.deepEqual(exported.files.map((f) => f.slice(exportDir.length + 1)).sort(), [
      'metadata.json',
      'model.onnx',
    ]);
    const metadata = JSON.parse(readFileSync(join(exportDir, 'metadata.json'), 'utf8'));
    assert.deepEqual(metadata.classes, trained.classes);
    assert.equal(metadata.inputSize, INPUT_SIZE);
    assert.equal(metadata.preprocessing.centerCrop, INPUT_SIZE);
    await assert.rejects(exportModel(project, trained.modelId, exportDir), /already exists/);

    const importedId = await importModel(project, exportDir);
    assert.notEqual(importedId, trained.modelId);
    const imported = getModel(project, importedId);
    assert.deepEqual(imported.classes, trained.classes);

    const images = trainingSet(project)
      .images.slice(0, 12)
      .map((i) => i.path);
    const batch = await preprocessBatch(images, INPUT_SIZE);
    const predict = async (onnx: Uint8Array) => {
      const ort = loadOrt();
      const session = await ort.InferenceSession.create(onnx);
      try {
        const input = new ort.Tensor('float32', batch.data, [images.length, 3, INPUT_SIZE, INPUT_SIZE]);
        return Array.from((await session.run({ input })).probs.data as Float32Array);
      } finally {
        await session.release();
      }
    };
    const original = await predict((await buildModelOnnx(project, trained.modelId)).onnx);
    const reimported = await predict((await buildModelOnnx(project, importedId)).onnx);
    assert.equal(original.length, images.length * CLASSES.length);
    assert.deepEqual(reimported, original);
    for (let i = 0; i < images.length; i++) {
      const row = original.slice(i * CLASSES.length, (i + 1) * CLASSES.length);
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
  });

  it('refuses to rebuild a model whose weights file changed', async () => {
    const copy = join(dir, 'copy.safetensors');
    copyFileSync(withClassifier, copy);
    const trained = await trainProject(project, {
      weightsPath: copy,
      arch: ARCH,
      inputSize: INPUT_SIZE,
      epochs: 1,
    });
    writeSmallBackbone(copy, { seed: 99 });
    await assert.rejects(buildModelOnnx(project, trained.modelId), /SHA-256.*train again/);
    assert.ok(existsSync(copy));
  });
});
