/**
 * Parity with PyTorch: fixtures written by test/fixtures/generate/vision_parity.py (torch 1.13, torchvision 0.14),
 * run here through the real path — sharp decode and preprocessing, the ONNX graph built from the safetensors file,
 * ONNX Runtime, the batching pipeline.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ConvolutionAlgorithm } from '../../electron/vision/onnx-graph.js';
import { OrtVggEngine } from '../../electron/vision/ort-engine.js';
import type { PreprocessOptions } from '../../electron/vision/preprocess.js';
import { loadVggWeights } from '../../electron/vision/weights.js';
import {
  FIXTURES,
  maxAbsDiff,
  readParityFixtures,
  runParityCases,
  type ParityCase,
  type ParityFixtures,
} from './helpers.js';

const expected = readParityFixtures();

const centered = (v: ArrayLike<number>) => {
  const mean = Array.from(v).reduce((s, x) => s + x, 0) / v.length;
  return Array.from(v, (x) => x - mean);
};
const argmax = (v: ArrayLike<number>) => Array.from(v).reduce((best, x, i, a) => (x > a[best] ? i : best), 0);

/** Runs every case of one model at one size on ONNX Runtime. */
async function runCases(
  model: ParityFixtures['models'][number],
  inputSize: number,
  cases: ParityCase[],
  preprocess: PreprocessOptions = {},
  convolution: ConvolutionAlgorithm = 'winograd',
) {
  const weights = await loadVggWeights(join(FIXTURES, model.weights), model.arch);
  const engine = await OrtVggEngine.create(weights, {
    inputSize,
    outputs: ['logits', 'pooled'],
    convolution,
  });
  try {
    return await runParityCases(engine, cases, preprocess);
  } finally {
    await engine.close();
  }
}

describe('PyTorch parity (ONNX Runtime)', () => {
  const report: string[] = [];
  after(() => console.log(report.join('\n')));

  for (const model of expected.models) {
    for (const inputSize of [224, 160]) {
      // Both graph forms: Winograd (what the CPU runs) and plain Conv nodes (exports, GPU providers).
      for (const convolution of ['winograd', 'direct'] as const)
        it(`${model.name} at ${inputSize}, ${convolution} convolution: within 1e-3 of torchvision's logits, resampled or not`, async () => {
          // 'exact': no resampling, the shorter side already is R. 'resampled': odd sizes enlarged or shrunk, which
          // Pillow's algorithm (resample.ts) reproduces bit for bit.
          const cases = expected.cases.filter((c) => c.model === model.name && c.inputSize === inputSize);
          assert.ok(cases.filter((c) => c.kind === 'exact').length >= 3);
          assert.ok(cases.filter((c) => c.kind === 'resampled').length >= 3);
          let worst = 0;
          for (const r of await runCases(model, inputSize, cases, {}, convolution)) {
            const diff = maxAbsDiff(r.logits, r.case.logits);
            worst = Math.max(worst, diff);
            assert.ok(diff <= 1e-3, `${r.case.image}: max |Δlogit| ${diff}`);
            if (r.case.pooled)
              assert.ok(maxAbsDiff(r.pooled, r.case.pooled) <= 1e-4, `${r.case.image}: pooled`);
          }
          report.push(
            `${model.name} @${inputSize} (${convolution}), ${cases.length} images: max |Δlogit| = ${worst.toExponential(2)}`,
          );
        });

      it(`${model.name} at ${inputSize}: shrinking with sharp stays close to torchvision, same top-1`, async () => {
        // Large photos are shrunk by sharp's 'linear' kernel, not Pillow's: force that path on the shrunk images.
        const cases = expected.cases.filter(
          (c) =>
            c.model === model.name &&
            c.inputSize === inputSize &&
            c.kind === 'resampled' &&
            Math.min(
              ...c.image
                .match(/(\d+)x(\d+)/)!
                .slice(1)
                .map(Number),
            ) > Math.floor(inputSize / 0.875),
        );
        assert.ok(cases.length >= 2);
        let worst = 0;
        for (const r of await runCases(model, inputSize, cases, { exactResampleBudget: 0 })) {
          const diff = maxAbsDiff(centered(r.logits), centered(r.case.logits));
          worst = Math.max(worst, diff);
          assert.ok(diff <= 0.1, `${r.case.image}: max |Δ centered logit| ${diff}`);
          assert.equal(argmax(r.logits), argmax(r.case.logits), `${r.case.image}: top-1`);
        }
        report.push(
          `${model.name} @${inputSize} via sharp: max |Δ centered logit| = ${worst.toExponential(2)}`,
        );
      });
    }
  }
});
