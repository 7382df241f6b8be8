/**
 * The ONNX graph and the ONNX Runtime engine: full-size shapes and parameter counts against torchvision's (written by
 * the fixture generator), graph structure, feature outputs, head override, dynamic batch, adaptive pooling on a 1×1
 * map, the pipeline's error handling, progress and cancellation.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  ARCH_NAMES,
  expectedTensors,
  parameterCount,
  pooledFeatureSize,
  vggSpec,
} from '../../electron/vision/arch.js';
import { buildVggModel, buildVggOnnx } from '../../electron/vision/onnx-graph.js';
import { decodeModel } from '../../electron/vision/onnx-proto.js';
import { OrtVggEngine } from '../../electron/vision/ort-engine.js';
import { row, runPipeline } from '../../electron/vision/pipeline.js';
import type { LoadedWeights } from '../../electron/vision/weights.js';
import { randomTensors, readParityFixtures, rng, tempDir } from './helpers.js';

const reference = readParityFixtures();
const tmp = tempDir('sorta-ort-');
after(tmp.cleanup);

function smallWeights(arch: 'vgg11_bn' | 'vgg11', options: { classifier?: boolean } = {}): LoadedWeights {
  const spec = vggSpec(arch, { widthScale: 1 / 16, hidden: 16, numClasses: 4 });
  return {
    spec,
    tensors: randomTensors(spec, options),
    hasClassifier: options.classifier ?? true,
    checksum: 'x',
  };
}

function randomInput(count: number, size: number, seed = 3): Float32Array {
  const random = rng(seed);
  return Float32Array.from({ length: count * 3 * size * size }, () => random() * 4 - 2);
}

/** y = x·Wᵀ + b for one row, in float64. */
function linear(x: ArrayLike<number>, w: Float32Array, b: Float32Array): number[] {
  const out = b.length;
  return Array.from({ length: out }, (_, o) => {
    let s = b[o];
    for (let i = 0; i < x.length; i++) s += x[i] * w[o * x.length + i];
    return s;
  });
}
const relu = (v: number[]) => v.map((x) => Math.max(0, x));
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('full-size VGG shapes and parameter counts', () => {
  it("match torchvision's for all eight architectures", () => {
    for (const arch of ARCH_NAMES) {
      const spec = vggSpec(arch);
      assert.equal(parameterCount(spec), reference.fullSize.parameterCounts[arch], arch);
      const ours = Object.fromEntries(expectedTensors(spec));
      assert.deepEqual(ours, reference.fullSize.stateDictShapes[arch], arch);
    }
    assert.equal(reference.fullSize.parameterCounts.vgg16_bn, 138_365_992);
    assert.equal(pooledFeatureSize(vggSpec('vgg16_bn')), 25088);
  });
});

describe('ONNX graph', () => {
  it("has torchvision's eval-mode layers: Conv, BatchNormalization eps 1e-5, Relu, MaxPool, pool MatMul, Gemm", () => {
    const weights = smallWeights('vgg11_bn');
    const model = decodeModel(buildVggOnnx(weights, { inputSize: 64, outputs: ['logits'] })) as {
      opset_import: { version: number }[];
      graph: { node: { op_type: string; attribute: { name: string; f?: number; i?: number }[] }[] };
    };
    const ops = model.graph.node.map((n) => n.op_type);
    assert.equal(ops.filter((o) => o === 'Conv').length, 8);
    assert.equal(ops.filter((o) => o === 'BatchNormalization').length, 8);
    assert.equal(ops.filter((o) => o === 'MaxPool').length, 5);
    assert.equal(ops.filter((o) => o === 'Gemm').length, 3);
    assert.ok(ops.includes('MatMul') && !ops.includes('Dropout') && !ops.includes('Softmax'));
    const bn = model.graph.node.find((n) => n.op_type === 'BatchNormalization')!;
    assert.ok(Math.abs(bn.attribute.find((a) => a.name === 'epsilon')!.f! - 1e-5) < 1e-12);
    for (const gemm of model.graph.node.filter((n) => n.op_type === 'Gemm'))
      assert.equal(gemm.attribute.find((a) => a.name === 'transB')!.i, 1);
    // At 224 the 7×7 map needs no pooling matrix.
    const at224 = buildVggModel(weights, { inputSize: 224, outputs: ['pooled'] }) as {
      graph: { node: { op_type: string }[] };
    };
    assert.ok(!at224.graph.node.some((n) => n.op_type === 'MatMul' || n.op_type === 'Gemm'));
  });

  it('a features-only file can give pooled features but not logits without a head', () => {
    const weights = smallWeights('vgg11', { classifier: false });
    assert.ok(buildVggOnnx(weights, { inputSize: 32, outputs: ['pooled'] }).length > 0);
    assert.throws(() => buildVggOnnx(weights, { inputSize: 32, outputs: ['logits'] }), /has no classifier/);
  });
});

describe('ONNX Runtime engine', () => {
  it('pooled, fc7, logits and probs agree with each other; dynamic batch gives the same rows', async () => {
    const weights = smallWeights('vgg11_bn');
    const engine = await OrtVggEngine.create(weights, {
      inputSize: 96,
      outputs: ['pooled', 'fc7', 'logits', 'probs'],
    });
    try {
      assert.equal(engine.executionProvider, 'cpu');
      const input = randomInput(3, 96);
      const all = await engine.run(input, 3);
      const one = await engine.run(input.subarray(3 * 96 * 96), 1);
      close(one.logits, row(all.logits, 3, 1), 1e-5);
      close(one.pooled, row(all.pooled, 3, 1), 1e-6);
      const t = (n: string) => weights.tensors.get(n)!.data;
      for (let r = 0; r < 3; r++) {
        const pooled = row(all.pooled, 3, r);
        const fc7 = relu(
          linear(
            relu(linear(pooled, t('classifier.0.weight'), t('classifier.0.bias'))),
            t('classifier.3.weight'),
            t('classifier.3.bias'),
          ),
        );
        close(row(all.fc7, 3, r), fc7, 1e-4);
        const logits = linear(row(all.fc7, 3, r), t('classifier.6.weight'), t('classifier.6.bias'));
        close(row(all.logits, 3, r), logits, 1e-4);
        const exps = logits.map((x) => Math.exp(x - Math.max(...logits)));
        close(
          row(all.probs, 3, r),
          exps.map((e) => e / exps.reduce((a, b) => a + b)),
          1e-5,
        );
      }
    } finally {
      await engine.close();
    }
    await assert.rejects(engine.run(randomInput(1, 96), 1), /closed/);
  });

  it('a head override replaces classifier.6 (another class count) or the whole classifier', async () => {
    const weights = smallWeights('vgg11', { classifier: false });
    const random = rng(9);
    const tensor = (shape: number[]) => ({
      shape,
      data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => random() - 0.5),
    });
    const pooled = pooledFeatureSize(weights.spec);
    const head = new Map([
      ['classifier.0.weight', tensor([8, pooled])],
      ['classifier.0.bias', tensor([8])],
      ['classifier.3.weight', tensor([8, 8])],
      ['classifier.3.bias', tensor([8])],
      ['classifier.6.weight', tensor([3, 8])],
      ['classifier.6.bias', tensor([3])],
    ]);
    const engine = await OrtVggEngine.create(weights, {
      inputSize: 32,
      outputs: ['fc7', 'logits'],
      headOverride: head,
    });
    try {
      const out = await engine.run(randomInput(2, 32), 2);
      assert.equal(out.logits.length, 2 * 3);
      close(
        row(out.logits, 2, 1),
        linear(
          row(out.fc7, 2, 1),
          head.get('classifier.6.weight')!.data,
          head.get('classifier.6.bias')!.data,
        ),
        1e-4,
      );
    } finally {
      await engine.close();
    }
    head.set('classifier.6.weight', tensor([3, 7]));
    await assert.rejects(
      OrtVggEngine.create(weights, { inputSize: 32, outputs: ['logits'], headOverride: head }),
      /'classifier.6.weight' has shape \[3, 7\], expected \[out, 8\]/,
    );
  });

  it('adaptive pooling of a 1×1 map (input 32) repeats each channel 49 times, as PyTorch does', async () => {
    const weights = smallWeights('vgg11');
    const engine = await OrtVggEngine.create(weights, { inputSize: 32, outputs: ['pooled'] });
    try {
      const { pooled } = await engine.run(randomInput(1, 32), 1);
      assert.equal(pooled.length, weights.spec.lastChannels * 49);
      for (let c = 0; c < weights.spec.lastChannels; c++)
        assert.ok(pooled.subarray(c * 49, c * 49 + 49).every((v) => v === pooled[c * 49]));
    } finally {
      await engine.close();
    }
  });
});

describe('pipeline', () => {
  it('skips unreadable files, reports progress, keeps order, and can be cancelled', async () => {
    const files: string[] = [];
    for (let i = 0; i < 7; i++) {
      const path = join(tmp.dir, `img${i}.png`);
      if (i === 2) writeFileSync(path, 'not an image at all');
      else
        await sharp({
          create: { width: 40 + i, height: 50, channels: 3, background: { r: i * 30, g: 100, b: 7 } },
        })
          .png()
          .toFile(path);
      files.push(path);
    }
    const engine = await OrtVggEngine.create(smallWeights('vgg11'), { inputSize: 32, outputs: ['logits'] });
    try {
      const seen: number[] = [];
      const progress: number[] = [];
      const result = await runPipeline(engine, files, {
        batchSize: 3,
        onProgress: (p) => progress.push(p.done),
        onBatch: ({ indices }) => void seen.push(...indices),
      });
      assert.deepEqual(seen, [0, 1, 3, 4, 5, 6]);
      assert.equal(result.processed, 6);
      assert.deepEqual(
        result.errors.map((e) => [e.index, e.code]),
        [[2, 'invalid-input']],
      );
      assert.match(result.errors[0].message, /img2\.png/);
      assert.deepEqual(progress, [0, 3, 6, 7]);

      const controller = new AbortController();
      await assert.rejects(
        runPipeline(engine, files, {
          batchSize: 2,
          signal: controller.signal,
          onBatch: () => controller.abort(),
        }),
        (e: Error & { code: string }) => e.code === 'cancelled',
      );
    } finally {
      await engine.close();
    }
  });
});
