/**
 * The Winograd graph (what ONNX Runtime's CPU provider runs) against the plain-Conv graph of the same weights: the
 * same numbers up to float32 rounding at every input size, including maps of odd size in the Winograd blocks (whole
 * tiles are cropped, odd rows dropped by the max-pool as PyTorch does). PyTorch parity of both forms is in
 * parity.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vggSpec, type ArchName } from '../../electron/vision/arch.js';
import { buildVggOnnx, type ConvolutionAlgorithm } from '../../electron/vision/onnx-graph.js';
import { decodeModel } from '../../electron/vision/onnx-proto.js';
import { convolutionFor, OrtVggEngine } from '../../electron/vision/ort-engine.js';
import type { LoadedWeights } from '../../electron/vision/weights.js';
import { randomBatch, randomVggWeights } from '../helpers/random-vgg.js';

function weightsFor(arch: ArchName): LoadedWeights {
  const spec = vggSpec(arch, { widthScale: 0.25, hidden: 32, numClasses: 5 });
  return { ...randomVggWeights(spec, { seed: 3 }), checksum: 'test' };
}

async function outputs(weights: LoadedWeights, inputSize: number, convolution: ConvolutionAlgorithm) {
  const engine = await OrtVggEngine.create(weights, {
    inputSize,
    outputs: ['logits', 'pooled'],
    convolution,
  });
  try {
    return await engine.run(randomBatch(3, inputSize), 3);
  } finally {
    await engine.close();
  }
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

describe('Winograd convolution graph', () => {
  for (const [arch, sizes] of [
    ['vgg16_bn', [224, 100, 33]],
    ['vgg11', [160, 45]],
    ['vgg19_bn', [64]],
  ] as [ArchName, number[]][]) {
    for (const size of sizes) {
      it(`${arch} at ${size}: equals the plain-Conv graph within float32 rounding`, async () => {
        const weights = weightsFor(arch);
        const direct = await outputs(weights, size, 'direct');
        const winograd = await outputs(weights, size, 'winograd');
        assert.equal(winograd.logits.length, direct.logits.length);
        // F(4×4, 3×3) rounds differently from a direct sum, about 1e-5 relative per layer.
        assert.ok(relativeError(winograd.pooled, direct.pooled) < 1e-4, 'pooled features');
        assert.ok(relativeError(winograd.logits, direct.logits) < 1e-4, 'logits');
      });
    }
  }

  it('is what the CPU provider runs; exports and GPU providers keep plain Conv nodes', () => {
    assert.equal(convolutionFor('cpu'), 'winograd');
    assert.equal(convolutionFor('webgpu'), 'direct');
    assert.equal(convolutionFor('cuda'), 'direct');
    const weights = weightsFor('vgg16_bn');
    const ops = (convolution?: ConvolutionAlgorithm) => {
      const model = decodeModel(buildVggOnnx(weights, { inputSize: 224, outputs: ['logits'], convolution }));
      return (model.graph as { node: { op_type: string }[] }).node.map((n) => n.op_type);
    };
    const portable = ops();
    assert.equal(portable.filter((op) => op === 'Conv').length, 13, 'the default graph: 13 Conv nodes');
    const winograd = ops('winograd');
    // Blocks 1–2 (4 convs) stay Conv nodes; blocks 3–5 (9 convs) become Winograd MatMuls, no BatchNorm left there.
    assert.equal(winograd.filter((op) => op === 'Conv').length, 4);
    assert.equal(winograd.filter((op) => op === 'BatchNormalization').length, 4);
    assert.equal(winograd.filter((op) => op === 'Gather').length, 9);
  });
});
